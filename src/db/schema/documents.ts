/** Documents and their versions (src/documents). */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const DOCUMENT_KINDS = ['node', 'continuation', 'manual'] as const;

/** Documents: what nodes generate, continuations of them, and their edits (as versions). */
export const documents = sqliteTable(
  'documents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id'),
    runId: integer('run_id'),
    nodeId: text('node_id'),
    parentId: integer('parent_id'),
    kind: text('kind', { enum: DOCUMENT_KINDS }).notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    version: integer('version').notNull().default(1),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    // A node's document is created once per run, however often its projection is retried.
    uniqueIndex('documents_run_node_unique').on(t.runId, t.nodeId).where(sql`kind = 'node'`),
    index('documents_owner_idx').on(t.ownerId, t.id),
    // One per list filter, each ending in id: a filtered page walks only the matching rows, newest
    // first, and stops at the limit (test/integration/query-plans.test.ts holds these plans).
    index('documents_owner_run_idx').on(t.ownerId, t.runId, t.id),
    index('documents_owner_workflow_idx').on(t.ownerId, t.workflowId, t.id),
    index('documents_owner_parent_idx').on(t.ownerId, t.parentId, t.id),
  ],
);

export const documentVersions = sqliteTable(
  'document_versions',
  {
    documentId: integer('document_id')
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.version] })],
);
