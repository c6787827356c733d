import { eq, sql } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import { type DB, rawAll, runBatch, type Stmt } from '../db/client';
import { knowledgeChunks, knowledgeSources } from '../db/schema';
import { ApiError } from '../lib/errors';
import { chunkText } from './chunking';
import { type BaseRow, chunkIdsOf, type SourceRow, sourceCount } from './queries';
import { type Backend, type KnowledgeEnv, knowledgeBackend } from './vector-index';

export const DEFAULT_MAX_SOURCES = 50;
export const maxSources = (env: Env) => (Number(env.KNOWLEDGE_MAX_SOURCES) > 0 ? Number(env.KNOWLEDGE_MAX_SOURCES) : DEFAULT_MAX_SOURCES);

export type NewSource = {
  kind: 'text' | 'upload' | 'document';
  title: string;
  content: string;
  documentId?: number;
  documentVersion?: number;
  filename?: string;
  mediaType?: string;
  bytes?: number;
};

/** The backend for a base, refused when the deployment's embedding is not the one the base was built with. */
export function backendFor(env: KnowledgeEnv, base: BaseRow): Backend {
  const backend = knowledgeBackend(env);
  if (backend.embedder.id !== base.embedding)
    throw new ApiError(
      'conflict',
      `This knowledge base was indexed with the ${base.embedding} embedding; this deployment embeds with ${backend.embedder.id}. Create a new base and add its sources again`,
    );
  return backend;
}

/** What is embedded for a chunk: its heading gives a passage cut from its section some context. */
const embeddable = (c: { heading: string | null; text: string }) =>
  c.heading && !c.text.startsWith('#') ? `${c.heading}\n${c.text}` : c.text;

/**
 * Adds a source: chunks it, embeds the chunks (before anything is written, so a failing embedding
 * leaves nothing), then writes the source as `indexing` — conditionally on the base having room,
 * so two concurrent adds cannot overshoot the quota — its chunks, their vectors, and finally marks
 * it `ready` with its audit row. A failure after the source row exists removes it again (its
 * chunks and local vectors go with it by cascade) and forgets any vectors already indexed.
 */
export async function addSource(env: KnowledgeEnv, db: DB, meta: RequestMeta, base: BaseRow, s: NewSource): Promise<SourceRow> {
  const limit = maxSources(env);
  if ((await sourceCount(db, base.id)) >= limit)
    throw new ApiError('bad_request', `This knowledge base holds ${limit} sources, its limit (KNOWLEDGE_MAX_SOURCES); delete one first`);
  const { embedder, index } = backendFor(env, base);
  const chunks = chunkText(s.content);
  if (chunks.length === 0) throw new ApiError('bad_request', 'The source has no text to index');
  const vectors = await embedder.embed(chunks.map(embeddable));

  const [inserted] = await rawAll<{ id: number }>(
    db,
    sql`INSERT INTO knowledge_sources (base_id, owner_id, kind, status, title, content, document_id, document_version, filename, media_type, bytes)
        SELECT ${base.id}, ${base.ownerId}, ${s.kind}, 'indexing', ${s.title}, ${s.content}, ${s.documentId ?? null}, ${s.documentVersion ?? null},
               ${s.filename ?? null}, ${s.mediaType ?? null}, ${s.bytes ?? null}
        WHERE (SELECT count(*) FROM knowledge_sources WHERE base_id = ${base.id}) < ${limit}
        RETURNING id`,
  );
  if (!inserted)
    throw new ApiError('bad_request', `This knowledge base holds ${limit} sources, its limit (KNOWLEDGE_MAX_SOURCES); delete one first`);
  const sourceId = inserted.id;
  try {
    const ids: number[] = [];
    for (let i = 0; i < chunks.length; i += 100) {
      const results = await runBatch(
        db,
        chunks.slice(i, i + 100).map((c) =>
          db
            .insert(knowledgeChunks)
            .values({
              sourceId,
              baseId: base.id,
              ordinal: c.ordinal,
              heading: c.heading,
              text: c.text,
              startOffset: c.start,
              endOffset: c.end,
            })
            .returning({ id: knowledgeChunks.id }),
        ),
      );
      // Each statement's result is the RETURNING rows of its one insert.
      for (const r of results as { id: number }[][]) ids.push(r[0]!.id);
    }
    await index.upsert(
      base.id,
      ids.map((chunkId, i) => ({ chunkId, vector: vectors[i]! })),
    );
    const [ready] = await db.batch([
      db.update(knowledgeSources).set({ status: 'ready', chunkCount: chunks.length }).where(eq(knowledgeSources.id, sourceId)).returning(),
      auditInsert(db, meta, {
        action: 'knowledge_source.add',
        targetType: 'knowledge_base',
        targetId: base.id,
        details: { source_id: sourceId, kind: s.kind, chunks: chunks.length, document_id: s.documentId ?? null },
      }),
    ]);
    return ready[0]!;
  } catch (err) {
    await removeSources(env, db, { sourceId }).catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes a source or a whole base's sources, with their chunks, vectors and full-text entries.
 * D1 rows go in one statement each (chunks, local vectors and FTS entries follow by cascade and
 * trigger); Vectorize is told afterwards, and a failure there leaves orphan vectors that search
 * never returns, because every hit is looked up in D1 before it is shown.
 */
export async function removeSources(env: KnowledgeEnv, db: DB, what: { sourceId: number } | { baseId: number }, extra: Stmt[] = []) {
  const ids = await chunkIdsOf(db, what);
  const del =
    'sourceId' in what
      ? db.delete(knowledgeSources).where(eq(knowledgeSources.id, what.sourceId))
      : db.delete(knowledgeSources).where(eq(knowledgeSources.baseId, what.baseId));
  await runBatch(db, [del, ...extra]);
  if (ids.length > 0) await knowledgeBackend(env).index.remove(ids);
}
