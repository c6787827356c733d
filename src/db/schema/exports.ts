/** Exports built in the background and stored in R2 (src/exports). */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const EXPORT_FORMATS = ['md', 'html', 'pdf', 'docx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EXPORT_SCOPES = ['document', 'run_final', 'run_all'] as const;
export const EXPORT_STATUSES = ['queued', 'ready', 'failed'] as const;

/**
 * One export too large to build inside a request: what to export (a document, or a run's final
 * or every document), the `document_export` task building it, and where its file is in the
 * EXPORTS bucket once ready.
 */
export const exportJobs = sqliteTable(
  'export_jobs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    scope: text('scope', { enum: EXPORT_SCOPES }).notNull(),
    documentId: integer('document_id'),
    workflowId: integer('workflow_id'),
    runId: integer('run_id'),
    format: text('format', { enum: EXPORT_FORMATS }).notNull(),
    status: text('status', { enum: EXPORT_STATUSES }).notNull(),
    taskId: integer('task_id'),
    /** The export's title (a run's: its workflow's name and the run id), for the file's own title. */
    title: text('title').notNull(),
    filename: text('filename').notNull(),
    objectKey: text('object_key'),
    bytes: integer('bytes'),
    error: text('error'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('export_jobs_owner_idx').on(t.ownerId, t.id)],
);
