import { and, eq } from 'drizzle-orm';
import type { DB, Stmt } from '../db/client';
import { type ExportFormat, exportJobs, tasks } from '../db/schema';
import type { RequestMeta } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { toIso, toIsoOrNull } from '../lib/time';
import { submitTasks, TaskError } from '../tasks';
import { compose } from './compose';
import { signedPath } from './links';
import { fileName, type Rendered, renderExport } from './render';

export type ExportJob = typeof exportJobs.$inferSelect;
export type ExportTarget =
  | { scope: 'document'; documentId: number }
  | { scope: 'run_final' | 'run_all'; workflowId: number; runId: number; runTitle: string };

export const DEFAULT_INLINE_MAX_BYTES = 256 * 1024;
const inlineMax = (env: Env) => (Number(env.EXPORT_INLINE_MAX_BYTES) > 0 ? Number(env.EXPORT_INLINE_MAX_BYTES) : DEFAULT_INLINE_MAX_BYTES);

export type ExportOutcome = { kind: 'inline'; rendered: Rendered; filename: string } | { kind: 'queued'; job: ExportJob };

/**
 * An export, answered in the request when its Markdown is at most EXPORT_INLINE_MAX_BYTES (and the
 * client did not ask for the background), otherwise handed to a `document_export` task that
 * stores the file in R2 (EXPORTS). PDF and DOCX layout costs CPU roughly in proportion to the
 * text, and a task's queue invocation has its own budget, so a long run export cannot time out
 * the request that asked for it.
 */
export async function startExport(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  target: ExportTarget,
  format: ExportFormat,
  delivery: 'auto' | 'background',
): Promise<ExportOutcome> {
  const composed = await compose(db, ownerId, target, format);
  if (delivery === 'auto' && new TextEncoder().encode(composed.markdown).byteLength <= inlineMax(env)) {
    const rendered = await renderExport(env, composed.title, composed.markdown, format);
    return { kind: 'inline', rendered, filename: fileName(composed.title, rendered.extension) };
  }
  const [job] = await db
    .insert(exportJobs)
    .values({
      ownerId,
      scope: target.scope,
      documentId: target.scope === 'document' ? target.documentId : null,
      workflowId: target.scope === 'document' ? null : target.workflowId,
      runId: target.scope === 'document' ? null : target.runId,
      format,
      status: 'queued',
      title: composed.title,
      filename: fileName(composed.title, format),
    })
    .returning();
  try {
    const [task] = await submitTasks(env, db, meta, ownerId, [
      {
        name: `Export ${job!.filename}`.slice(0, 200),
        task_type: 'document_export',
        priority: 'normal',
        payload: { export_id: job!.id },
        delay_seconds: 0,
        timeout_seconds: 300,
        max_retries: 3,
        idempotency_key: `export-${job!.id}`,
      },
    ]);
    const [updated] = await db.update(exportJobs).set({ taskId: task!.task.id }).where(eq(exportJobs.id, job!.id)).returning();
    return { kind: 'queued', job: updated! };
  } catch (err) {
    await db
      .update(exportJobs)
      .set({ status: 'failed', error: 'could not queue the export task', finishedAt: Date.now() })
      .where(eq(exportJobs.id, job!.id));
    throw err;
  }
}

export async function ownedJob(db: DB, ownerId: number, id: number) {
  return db
    .select({ job: exportJobs, taskStatus: tasks.status, taskError: tasks.error })
    .from(exportJobs)
    .leftJoin(tasks, eq(tasks.id, exportJobs.taskId))
    .where(and(eq(exportJobs.id, id), eq(exportJobs.ownerId, ownerId)))
    .get();
}

const objectKey = (job: ExportJob) => `exports/${job.ownerId}/${job.id}/${job.filename}`;

/**
 * One attempt of a `document_export` task: composes and renders the export as its owner may see
 * it now, stores it under a key made from the job (so a retried attempt overwrites, never
 * duplicates), and returns the job's change to `ready` for the task's own batch.
 */
export async function buildExport(env: Env, db: DB, job: ExportJob): Promise<{ result: unknown; statements: Stmt[] }> {
  const target: ExportTarget =
    job.scope === 'document'
      ? { scope: 'document', documentId: job.documentId ?? 0 }
      : { scope: job.scope, workflowId: job.workflowId ?? 0, runId: job.runId ?? 0, runTitle: job.title };
  let rendered: Rendered;
  try {
    const composed = await compose(db, job.ownerId, target, job.format);
    rendered = await renderExport(env, composed.title, composed.markdown, job.format);
  } catch (err) {
    // What was exported is gone (404) or never had a document (409): retrying cannot help.
    if (err instanceof ApiError && err.code !== 'service_unavailable') throw new TaskError(err.message, false);
    throw err;
  }
  const key = objectKey(job);
  const stored = await env.EXPORTS.put(key, rendered.body, {
    httpMetadata: { contentType: rendered.contentType, contentDisposition: `attachment; filename="${job.filename}"` },
  });
  const now = Date.now();
  return {
    result: { export_id: job.id, bytes: stored.size },
    statements: [
      db
        .update(exportJobs)
        .set({ status: 'ready', objectKey: key, bytes: stored.size, finishedAt: now })
        .where(and(eq(exportJobs.id, job.id), eq(exportJobs.status, 'queued'))),
    ],
  };
}

/** A job as the API shows it. A job whose task ended without it being ready has failed, with the task's error. */
export async function jobView(env: Env, row: { job: ExportJob; taskStatus: string | null; taskError: string | null }) {
  const { job } = row;
  const taskEnded = row.taskStatus !== null && ['failed', 'cancelled', 'timed_out', 'dead'].includes(row.taskStatus);
  const status = job.status === 'queued' && taskEnded ? 'failed' : job.status;
  const link = status === 'ready' ? await signedPath(env, job.id) : null;
  return {
    id: job.id,
    scope: job.scope,
    format: job.format,
    document_id: job.documentId,
    workflow_id: job.workflowId,
    run_id: job.runId,
    status,
    task_id: job.taskId,
    title: job.title,
    filename: job.filename,
    bytes: job.bytes,
    error: job.error ?? (status === 'failed' ? (row.taskError ?? 'the export task ended without a file') : null),
    download_url: status === 'ready' ? `/api/v3/exports/${job.id}/download` : null,
    signed_url: link?.path ?? null,
    signed_url_expires_at: link ? toIso(link.expiresAt) : null,
    created_at: toIso(job.createdAt),
    finished_at: toIsoOrNull(job.finishedAt),
  };
}
