/** Workflow definitions and their immutable versions (src/workflows). */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const workflows = sqliteTable(
  'workflows',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    /** Current version; the full history is in workflow_versions. */
    version: integer('version').notNull().default(1),
    nodes: text('nodes', { mode: 'json' }).$type<unknown[]>().notNull(),
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    deletedAt: integer('deleted_at'),
    /** Archived workflows are left out of lists unless asked for; they stay readable and runnable. */
    archivedAt: integer('archived_at'),
  },
  (t) => [
    index('workflows_owner_idx').on(t.ownerId, t.id),
    // The list's other sort orders (src/workflows/search.ts): the key, then id as the tie-break.
    index('workflows_owner_updated_idx').on(t.ownerId, t.updatedAt, t.id),
    index('workflows_owner_name_idx').on(t.ownerId, sql`${t.name} COLLATE NOCASE`, t.id),
  ],
);

/**
 * A workflow's tags: labels for finding it, not part of its definition, so changing them writes
 * no version. One row per (workflow, tag); the tag index serves `?tag=` filters.
 */
export const workflowTags = sqliteTable(
  'workflow_tags',
  {
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.tag] }), index('workflow_tags_tag_idx').on(t.tag, t.workflowId)],
);

/** Immutable snapshots: a run is pinned to one (workflow_id, version). */
export const workflowVersions = sqliteTable(
  'workflow_versions',
  {
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    nodes: text('nodes', { mode: 'json' }).$type<unknown[]>().notNull(),
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdBy: integer('created_by').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);
