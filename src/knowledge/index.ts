/**
 * The knowledge feature's public module: retrieval for the run engine's `retrieve` node and chunk
 * look-ups for citations. Both read only the owner's bases, sources and chunks.
 */
import { getDb } from '../db/client';
import { chunksWithSources, ownedBase } from './queries';
import { searchBase } from './search';
import { publicChunk } from './views';

export type RetrievedPassage = {
  chunk_id: number;
  source_id: number;
  document_id: number | null;
  text: string;
  /** Cosine similarity to the query under the base's embedding (-1 to 1; see docs/api/knowledge-bases.md). */
  score: number;
  title: string | null;
};

/**
 * The passages of one of the owner's knowledge bases that best answer `query`: hybrid search
 * (vectors and BM25 fused by rank), at most `topK`, none below `minScore`. Throws ApiError
 * `not_found` for a base the owner does not have, `conflict` for a base built with another
 * embedding than this deployment's, `service_unavailable` when the embedding cannot be computed.
 *
 * @example
 *   const { passages } = await retrieve(env, ownerId, { knowledgeBaseId: 3, query: 'refund policy', topK: 4, minScore: 0.2 });
 *   // passages[0] → { chunk_id: 41, source_id: 7, document_id: null, text: 'Refunds are …', score: 0.61, title: 'Terms' }
 */
export async function retrieve(
  env: Env,
  ownerId: number,
  params: { knowledgeBaseId: number; query: string; topK: number; minScore?: number },
): Promise<{ passages: RetrievedPassage[] }> {
  const db = getDb(env.DB);
  const base = await ownedBase(db, ownerId, params.knowledgeBaseId);
  const found = await searchBase(env, db, base, params.query, { topK: params.topK, minScore: params.minScore });
  return {
    passages: found.map((p) => ({
      chunk_id: p.chunk_id,
      source_id: p.source_id,
      document_id: p.document_id,
      text: p.text,
      score: p.score,
      title: p.title,
    })),
  };
}

export type CitedChunk = ReturnType<typeof publicChunk>;

/**
 * Chunks by id, for showing citations: only the owner's, from sources still present and ready;
 * ids that are not (deleted since, or someone else's) are simply absent from the answer.
 *
 * @example
 *   const [chunk] = await chunksById(env, ownerId, [41]); // { chunk_id: 41, source_id: 7, text: '…', start_offset: 1200, … }
 */
export async function chunksById(env: Env, ownerId: number, ids: number[]): Promise<CitedChunk[]> {
  const rows = await chunksWithSources(getDb(env.DB), ownerId, [...new Set(ids)]);
  return rows.map((r) => publicChunk(r.chunk, r)).sort((a, b) => a.chunk_id - b.chunk_id);
}
