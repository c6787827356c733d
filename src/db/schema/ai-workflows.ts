/** AI workflows: a template's workflow and its stored input (src/ai-workflows). */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';
import { workflows } from './workflows';

/**
 * An AI workflow is an ordinary workflow built from a template, plus what the template was given:
 * its stored `input_data` is the input of every run `execute` starts. `id` is the public
 * `ai_workflow_<id>` number (global, like workflow ids).
 */
export const aiWorkflows = sqliteTable(
  'ai_workflows',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    template: text('template').notNull(),
    workflowType: text('workflow_type').notNull(),
    provider: text('provider').notNull(),
    model: text('model'),
    inputData: text('input_data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('ai_workflows_workflow_unique').on(t.workflowId), index('ai_workflows_owner_idx').on(t.ownerId, t.id)],
);
