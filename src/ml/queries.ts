import { and, asc, desc, eq, lt, sql } from 'drizzle-orm';
import type { DB, Stmt } from '../db/client';
import { mlModelBlobs, mlModels, mlModelVersions, mlPredictions, mlTrainingChunks } from '../db/schema';
import type { Principal } from '../lib/access';
import { ApiError } from '../lib/errors';
import type { Row } from './preprocess';

/*
 * D1 access for models, versions, their serialised models and training rows. Large JSON is cut
 * into parts (model JSON) or chunks (training rows) so no single D1 row approaches its 2 MB limit.
 */

export type ModelRow = typeof mlModels.$inferSelect;
export type VersionRow = typeof mlModelVersions.$inferSelect;

export const CHUNK_ROWS = 500;
const BLOB_PART_CHARS = 500_000;

export const publicModelId = (id: number) => `ml_model_${id}`;

const notFound = () => new ApiError('not_found', 'Model not found');

/**
 * The model if this principal may see it: its owner, or any admin (admins see every model).
 * Changes (`write`) are for the owner only; for anyone else the model is "not found", exactly
 * like a missing one, so ids reveal nothing.
 */
export async function findModel(db: DB, who: Principal, id: number, write = false): Promise<ModelRow> {
  const row = await db.select().from(mlModels).where(eq(mlModels.id, id)).get();
  if (!row) throw notFound();
  if (row.ownerId === who.userId) return row;
  if (!write && who.role === 'admin') return row;
  throw notFound();
}

export function listModels(db: DB, who: Principal, limit: number, before: number | undefined) {
  const visible = who.role === 'admin' ? undefined : eq(mlModels.ownerId, who.userId);
  return db
    .select()
    .from(mlModels)
    .where(and(visible, before ? lt(mlModels.id, before) : undefined))
    .orderBy(desc(mlModels.id))
    .limit(limit + 1)
    .all();
}

export async function storedRowCount(db: DB, modelId: number): Promise<number> {
  const r = await db.get<{ n: number | null }>(sql`SELECT sum(row_count) AS n FROM ml_training_chunks WHERE model_id = ${modelId}`);
  return r?.n ?? 0;
}

/** The first `limit` stored training rows in insertion order (all of them without a limit). */
export async function loadTrainingRows(db: DB, modelId: number, limit?: number): Promise<Row[]> {
  const chunks = await db
    .select({ rows: mlTrainingChunks.rows })
    .from(mlTrainingChunks)
    .where(eq(mlTrainingChunks.modelId, modelId))
    .orderBy(asc(mlTrainingChunks.seq))
    .all();
  const rows = chunks.flatMap((c) => c.rows as Row[]);
  return limit === undefined ? rows : rows.slice(0, limit);
}

/** Statements that replace a model's stored rows, or append to them. */
export async function dataStatements(db: DB, modelId: number, rows: readonly Row[], mode: 'replace' | 'append'): Promise<Stmt[]> {
  const out: Stmt[] = [];
  let seq = 0;
  if (mode === 'replace') out.push(db.delete(mlTrainingChunks).where(eq(mlTrainingChunks.modelId, modelId)));
  else {
    const r = await db.get<{ s: number | null }>(sql`SELECT max(seq) AS s FROM ml_training_chunks WHERE model_id = ${modelId}`);
    seq = (r?.s ?? -1) + 1;
  }
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    const part = rows.slice(i, i + CHUNK_ROWS);
    out.push(db.insert(mlTrainingChunks).values({ modelId, seq: seq++, rowCount: part.length, rows: [...part] }));
  }
  return out;
}

export function blobStatements(db: DB, modelId: number, version: number, text: string): Stmt[] {
  const out: Stmt[] = [];
  for (let i = 0, part = 0; i < text.length || part === 0; i += BLOB_PART_CHARS, part++) {
    out.push(db.insert(mlModelBlobs).values({ modelId, version, part, data: text.slice(i, i + BLOB_PART_CHARS) }));
  }
  return out;
}

export async function loadModelJson(db: DB, modelId: number, version: number): Promise<unknown> {
  const parts = await db
    .select({ data: mlModelBlobs.data })
    .from(mlModelBlobs)
    .where(and(eq(mlModelBlobs.modelId, modelId), eq(mlModelBlobs.version, version)))
    .orderBy(asc(mlModelBlobs.part))
    .all();
  if (parts.length === 0) throw new Error(`model ${modelId} version ${version} has no stored model`);
  return JSON.parse(parts.map((p) => p.data).join(''));
}

export async function nextVersion(db: DB, modelId: number): Promise<number> {
  const r = await db.get<{ v: number | null }>(sql`SELECT max(version) AS v FROM ml_model_versions WHERE model_id = ${modelId}`);
  return (r?.v ?? 0) + 1;
}

export const getVersion = (db: DB, modelId: number, version: number) =>
  db
    .select()
    .from(mlModelVersions)
    .where(and(eq(mlModelVersions.modelId, modelId), eq(mlModelVersions.version, version)))
    .get();

export function listVersions(db: DB, modelId: number, limit: number, before: number | undefined) {
  return db
    .select()
    .from(mlModelVersions)
    .where(and(eq(mlModelVersions.modelId, modelId), before ? lt(mlModelVersions.id, before) : undefined))
    .orderBy(desc(mlModelVersions.id))
    .limit(limit + 1)
    .all();
}

export const recordPrediction = (db: DB, modelId: number, version: number, userId: number, rowCount: number) =>
  db.insert(mlPredictions).values({ modelId, version, userId, rowCount });

/** A model's `training` version whose background task has ended without finishing it. */
export async function failOrphanedTraining(db: DB, modelId: number): Promise<void> {
  await db.run(sql`UPDATE ml_model_versions SET status = 'failed', finished_at = ${Date.now()},
      error = coalesce(error, 'the background training task ended without a result: ' || (SELECT coalesce(t.error, t.status) FROM tasks t WHERE t.id = ml_model_versions.task_id))
    WHERE model_id = ${modelId} AND status = 'training'
      AND EXISTS (SELECT 1 FROM tasks t WHERE t.id = ml_model_versions.task_id AND t.status IN ('failed', 'cancelled', 'timed_out', 'dead'))`);
}

/** Whether (model, version) is the owner's and waiting for its background train. */
export async function pendingTraining(db: DB, ownerId: number, modelId: number, version: number): Promise<boolean> {
  const r = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM ml_model_versions v JOIN ml_models m ON m.id = v.model_id
    WHERE m.id = ${modelId} AND m.owner_id = ${ownerId} AND v.version = ${version} AND v.status = 'training'`);
  return (r?.n ?? 0) > 0;
}
