/** What AI calls cost: admins' price corrections and users' monthly budgets (src/costs). */
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { PROVIDERS } from './ai';
import { users } from './auth';
import { now } from './columns';

/**
 * Prices set by an administrator, in USD per million tokens. They win over the model catalogue's
 * list prices (src/ai/models.ts) for the calls made after they are set; attempts keep the cost
 * computed when they ran.
 */
export const modelPrices = sqliteTable(
  'model_prices',
  {
    provider: text('provider', { enum: PROVIDERS }).notNull(),
    model: text('model').notNull(),
    inputPerMTok: real('input_per_mtok').notNull(),
    outputPerMTok: real('output_per_mtok').notNull(),
    updatedBy: integer('updated_by').references(() => users.id, { onDelete: 'set null' }),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.provider, t.model] })],
);

/**
 * A user's monthly spending limit in USD, over every run they start (calendar month, UTC). A user
 * sets their own; one an administrator set is a ceiling the user may lower but not raise.
 */
export const costBudgets = sqliteTable('cost_budgets', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  monthlyUsd: real('monthly_usd').notNull(),
  /** The administrator's ceiling, when one was set. */
  ceilingUsd: real('ceiling_usd'),
  updatedBy: integer('updated_by').references(() => users.id, { onDelete: 'set null' }),
  updatedAt: integer('updated_at').notNull().default(now),
});
