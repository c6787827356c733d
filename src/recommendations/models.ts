/**
 * Models and their trained artefacts. A model's public id is `rec_model_<n>` (the seeds' style);
 * `n` is the row id. An artefact is JSON stored in `rec_model_chunks` in pieces of at most
 * CHUNK_CHARS characters, because D1 caps a single value/row at 2 MB; reading a version joins its
 * chunks in `seq` order.
 */
import { and, desc, eq, lt, lte, sql } from 'drizzle-orm';
import type { Principal } from '../lib/access';
import type { DB } from '../db/client';
import { recModelChunks, recModels } from '../db/schema';
import { ApiError } from '../lib/errors';
import { cachedArtefact } from './artefact-cache';
import type { Artefact } from './engine';
import type { Algorithm } from './weights';

export type ModelRow = typeof recModels.$inferSelect;

const CHUNK_CHARS = 500_000;
/** Versions kept per model: the current one and the one before it. */
const KEEP_VERSIONS = 2;

export const publicModelId = (id: number) => `rec_model_${id}`;

export function modelView(m: ModelRow) {
  return {
    id: publicModelId(m.id),
    name: m.name,
    algorithm: m.algorithm,
    recommendation_type: m.recommendationType,
    parameters: m.parameters,
    version: m.version,
    status: m.version > 0 ? ('trained' as const) : ('untrained' as const),
    trained_at: m.trainedAt === null ? null : new Date(m.trainedAt).toISOString(),
    training_summary: m.trainingSummary,
    owner_id: m.ownerId,
    created_at: new Date(m.createdAt).toISOString(),
  };
}

export async function createModel(
  db: DB,
  ownerId: number,
  m: { name: string; algorithm: Algorithm; recommendationType: string; parameters: Record<string, unknown> },
) {
  const [row] = await db
    .insert(recModels)
    .values({ ownerId, ...m })
    .returning();
  return row!;
}

/** The model if the principal may use it (its owner, or an admin); otherwise 404, not 403, so ids do not leak. */
export async function modelFor(db: DB, p: Principal, publicId: string): Promise<ModelRow> {
  const id = Number(publicId.slice('rec_model_'.length));
  const where = p.role === 'admin' ? eq(recModels.id, id) : and(eq(recModels.id, id), eq(recModels.ownerId, p.userId));
  const [row] = await db.select().from(recModels).where(where).limit(1);
  if (!row) throw new ApiError('not_found', 'Recommendation model not found');
  return row;
}

export async function listModels(db: DB, p: Principal, limit: number, before?: number) {
  const scope = p.role === 'admin' ? undefined : eq(recModels.ownerId, p.userId);
  return db
    .select()
    .from(recModels)
    .where(and(scope, before === undefined ? undefined : lt(recModels.id, before)))
    .orderBy(desc(recModels.id))
    .limit(limit + 1);
}

/**
 * Stores a new version atomically: the version bump is conditional on the version training
 * started from, and the chunk rows' primary key (model, version, seq) makes a concurrent training
 * of the same version fail the whole batch, so two trainings never interleave chunks.
 */
export function splitChunks(json: string, size = CHUNK_CHARS): string[] {
  const out: string[] = [];
  for (let i = 0; i < json.length || i === 0; i += size) out.push(json.slice(i, i + size));
  return out;
}

export async function saveVersion(
  db: DB,
  m: ModelRow,
  artefact: Artefact,
  trainedAt: number,
  summary: Record<string, unknown>,
  chunkChars = CHUNK_CHARS,
): Promise<ModelRow> {
  const json = JSON.stringify(artefact);
  const version = m.version + 1;
  const inserts = splitChunks(json, chunkChars).map((data, seq) => db.insert(recModelChunks).values({ modelId: m.id, version, seq, data }));
  const fullSummary = { ...summary, artefact_chars: json.length, chunks: inserts.length };
  let results;
  try {
    results = await db.batch([
      db
        .update(recModels)
        .set({ version, trainedAt, trainingSummary: fullSummary })
        .where(and(eq(recModels.id, m.id), eq(recModels.version, m.version)))
        .returning(),
      db.delete(recModelChunks).where(and(eq(recModelChunks.modelId, m.id), lte(recModelChunks.version, version - KEEP_VERSIONS))),
      ...inserts,
    ]);
  } catch (err) {
    if (String(err).includes('UNIQUE') || String(err).includes('PRIMARY KEY'))
      throw new ApiError('conflict', 'The model is being trained by another request; try again');
    throw err;
  }
  const updated = results[0];
  if (!updated[0]) throw new ApiError('conflict', 'The model was retrained meanwhile; try again');
  return updated[0];
}

/**
 * The parsed artefact of the model's current version. Served from this isolate's cache when it
 * holds that version (versions never change once saved, see artefact-cache.ts); otherwise its
 * chunks are read in `seq` order and parsed once, however many requests ask at the same time.
 */
export async function loadArtefact(db: DB, m: ModelRow): Promise<Artefact> {
  if (m.version === 0) throw notTrained();
  const expected = Number(m.trainingSummary?.artefact_chars ?? 0);
  const key = { modelId: m.id, version: m.version, createdAt: m.createdAt, trainedAt: m.trainedAt };
  return cachedArtefact(key, Number.isFinite(expected) ? expected : 0, async () => {
    const rows = await db
      .select({ data: recModelChunks.data })
      .from(recModelChunks)
      .where(and(eq(recModelChunks.modelId, m.id), eq(recModelChunks.version, m.version)))
      .orderBy(recModelChunks.seq);
    if (rows.length === 0) throw notTrained();
    const json = rows.map((r) => r.data).join('');
    // Written only by saveVersion from a value of this type; not client input.
    return { artefact: JSON.parse(json) as Artefact, chars: json.length };
  });
}

const notTrained = () => new ApiError('conflict', 'The model has not been trained yet; POST …/train first');

export async function countModels(db: DB, ownerId: number | null) {
  const where = ownerId === null ? undefined : eq(recModels.ownerId, ownerId);
  return db
    .select({ algorithm: recModels.algorithm, total: sql<number>`count(*)`, trained: sql<number>`sum(${recModels.version} > 0)` })
    .from(recModels)
    .where(where)
    .groupBy(recModels.algorithm);
}
