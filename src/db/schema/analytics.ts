/** Analytics events that no other table records (src/analytics). */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

/**
 * Events that no other table records: API-key use (one row per key per minute) and the custom
 * events clients post. Every other event type is counted from the rows that already record it
 * (src/analytics/catalogue.ts), so nothing is counted twice. `dedupe_key` makes a retried write
 * or a re-posted client event store nothing new.
 */
export const analyticsEvents = sqliteTable(
  'analytics_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    type: text('type').notNull(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id'),
    at: integer('at').notNull(),
    properties: text('properties', { mode: 'json' }).$type<Record<string, unknown>>(),
    dedupeKey: text('dedupe_key').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('analytics_events_dedupe_unique').on(t.dedupeKey),
    index('analytics_events_at_idx').on(t.at),
    index('analytics_events_user_idx').on(t.userId, t.at),
  ],
);
