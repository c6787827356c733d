import { and, count, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import { type DB, rawAll } from '../db/client';
import { knowledgeBases, knowledgeChunks, knowledgeSources } from '../db/schema';
import { ApiError } from '../lib/errors';

export type BaseRow = typeof knowledgeBases.$inferSelect;
export type SourceRow = typeof knowledgeSources.$inferSelect;
export type ChunkRow = typeof knowledgeChunks.$inferSelect;

/** The owner's base, or a 404 that does not say whether it exists for someone else. */
export async function ownedBase(db: DB, ownerId: number, id: number): Promise<BaseRow> {
  const base = await db
    .select()
    .from(knowledgeBases)
    .where(and(eq(knowledgeBases.id, id), eq(knowledgeBases.ownerId, ownerId)))
    .get();
  if (!base) throw new ApiError('not_found', 'Knowledge base not found');
  return base;
}

export async function ownedSource(db: DB, ownerId: number, baseId: number, id: number): Promise<SourceRow> {
  const source = await db
    .select()
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.id, id), eq(knowledgeSources.baseId, baseId), eq(knowledgeSources.ownerId, ownerId)))
    .get();
  if (!source) throw new ApiError('not_found', 'Knowledge source not found');
  return source;
}

export async function listBases(db: DB, ownerId: number, limit: number, beforeId?: number) {
  return db
    .select({
      base: knowledgeBases,
      sources: sql<number>`(SELECT count(*) FROM knowledge_sources s WHERE s.base_id = knowledge_bases.id)`,
    })
    .from(knowledgeBases)
    .where(and(eq(knowledgeBases.ownerId, ownerId), beforeId ? lt(knowledgeBases.id, beforeId) : undefined))
    .orderBy(desc(knowledgeBases.id))
    .limit(limit + 1)
    .all();
}

export async function sourceCount(db: DB, baseId: number): Promise<number> {
  const row = await db.select({ n: count() }).from(knowledgeSources).where(eq(knowledgeSources.baseId, baseId)).get();
  return row?.n ?? 0;
}

export async function createBase(
  db: DB,
  meta: RequestMeta,
  b: { ownerId: number; name: string; description: string | null; embedding: string },
) {
  const newId = sql`(SELECT max(id) FROM knowledge_bases)`;
  const [inserted] = await db.batch([
    db.insert(knowledgeBases).values(b).returning(),
    auditInsert(db, meta, {
      action: 'knowledge_base.create',
      targetType: 'knowledge_base',
      targetId: sql`CAST(${newId} AS TEXT)`,
      details: { name: b.name },
    }),
  ]);
  return inserted[0]!;
}

export async function updateBase(
  db: DB,
  meta: RequestMeta,
  base: BaseRow,
  change: { name?: string | undefined; description?: string | null | undefined },
) {
  const [updated] = await db.batch([
    db
      .update(knowledgeBases)
      .set({ ...change, updatedAt: Date.now() })
      .where(eq(knowledgeBases.id, base.id))
      .returning(),
    auditInsert(db, meta, {
      action: 'knowledge_base.update',
      targetType: 'knowledge_base',
      targetId: base.id,
      details: { fields: Object.keys(change) },
    }),
  ]);
  return updated[0]!;
}

export async function listSources(db: DB, baseId: number, limit: number, beforeId?: number) {
  return db
    .select()
    .from(knowledgeSources)
    .where(and(eq(knowledgeSources.baseId, baseId), beforeId ? lt(knowledgeSources.id, beforeId) : undefined))
    .orderBy(desc(knowledgeSources.id))
    .limit(limit + 1)
    .all();
}

export async function chunkIdsOf(db: DB, where: { baseId: number } | { sourceId: number }): Promise<number[]> {
  const rows = await db
    .select({ id: knowledgeChunks.id })
    .from(knowledgeChunks)
    .where('baseId' in where ? eq(knowledgeChunks.baseId, where.baseId) : eq(knowledgeChunks.sourceId, where.sourceId))
    .all();
  return rows.map((r) => r.id);
}

export async function sourceChunks(db: DB, sourceId: number) {
  return db.select().from(knowledgeChunks).where(eq(knowledgeChunks.sourceId, sourceId)).orderBy(knowledgeChunks.ordinal).all();
}

/** Chunks by id with their source's title and document, only from the owner's ready sources. */
export async function chunksWithSources(db: DB, ownerId: number, ids: number[]) {
  if (ids.length === 0) return [];
  return db
    .select({ chunk: knowledgeChunks, title: knowledgeSources.title, documentId: knowledgeSources.documentId })
    .from(knowledgeChunks)
    .innerJoin(knowledgeSources, eq(knowledgeSources.id, knowledgeChunks.sourceId))
    .where(and(inArray(knowledgeChunks.id, ids), eq(knowledgeSources.ownerId, ownerId), eq(knowledgeSources.status, 'ready')))
    .all();
}

/** Keyword matches by BM25 (FTS5's rank: lower is better), best first, within one base's ready sources. */
export async function keywordMatches(db: DB, baseId: number, match: string, limit: number): Promise<number[]> {
  const rows = await rawAll<{ id: number }>(
    db,
    sql`SELECT f.rowid AS id FROM knowledge_chunks_fts f
        JOIN knowledge_chunks c ON c.id = f.rowid
        JOIN knowledge_sources s ON s.id = c.source_id AND s.status = 'ready'
        WHERE knowledge_chunks_fts MATCH ${match} AND c.base_id = ${baseId}
        ORDER BY bm25(knowledge_chunks_fts, 0.5, 1.0), f.rowid LIMIT ${limit}`,
  );
  return rows.map((r) => r.id);
}
