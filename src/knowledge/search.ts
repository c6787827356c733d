import { eng } from 'stopword';
import type { DB } from '../db/client';
import { backendFor } from './ingest';
import { type BaseRow, chunksWithSources, keywordMatches } from './queries';
import type { KnowledgeEnv } from './vector-index';

export const SEARCH_MODES = ['hybrid', 'semantic', 'keyword'] as const;
export type SearchMode = (typeof SEARCH_MODES)[number];

export type Passage = {
  chunk_id: number;
  source_id: number;
  document_id: number | null;
  title: string | null;
  heading: string | null;
  text: string;
  start_offset: number;
  end_offset: number;
  /** Cosine similarity of the passage to the query under the base's embedding, -1 to 1. */
  score: number;
  semantic_rank: number | null;
  keyword_rank: number | null;
};

const STOP = new Set(eng);
/** Reciprocal rank fusion's damping constant; 60 is the value of Cormack et al. (2009), the usual default. */
const RRF_K = 60;

/**
 * The query as an FTS5 expression: its words, quoted (so user input is never FTS syntax) and
 * OR-ed, stop words left out. OR, not FTS5's default AND: a passage that answers a question
 * rarely contains every word of it, and BM25 already ranks those with more of them first.
 */
export function keywordQuery(q: string): string | null {
  const words = [...new Set(q.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].filter((w) => !STOP.has(w)).slice(0, 32);
  return words.length ? words.map((w) => `"${w}"`).join(' OR ') : null;
}

/**
 * Searches one base. Semantic: nearest vectors in the index. Keyword: BM25 over the chunks'
 * full-text index. Hybrid (the default): both lists fused by reciprocal rank fusion, which needs no
 * calibration between cosine and BM25 scales: each list contributes 1/(60 + rank) per passage.
 * Every returned passage carries its cosine score, whichever list found it, and `minScore`
 * filters on that.
 */
export async function searchBase(
  env: KnowledgeEnv,
  db: DB,
  base: BaseRow,
  q: string,
  opts: { topK: number; mode?: SearchMode; minScore?: number | undefined },
): Promise<Passage[]> {
  const mode = opts.mode ?? 'hybrid';
  const { embedder, index } = backendFor(env, base);
  const [vector] = await embedder.embed([q]);
  const pool = Math.min(100, Math.max(20, opts.topK * 4));
  const fts = keywordQuery(q);
  const [semantic, keyword] = await Promise.all([
    mode === 'keyword' ? [] : index.query(base.id, vector!, pool),
    mode === 'semantic' || !fts ? [] : keywordMatches(db, base.id, fts, pool),
  ]);
  const cosine = new Map(semantic.map((s) => [s.chunkId, s.score]));
  const semanticRank = new Map(semantic.map((s, i) => [s.chunkId, i + 1]));
  const keywordRank = new Map(keyword.map((id, i) => [id, i + 1]));
  const fused = new Map<number, number>();
  for (const [id, r] of semanticRank) fused.set(id, (fused.get(id) ?? 0) + 1 / (RRF_K + r));
  for (const [id, r] of keywordRank) fused.set(id, (fused.get(id) ?? 0) + 1 / (RRF_K + r));

  const missing = [...fused.keys()].filter((id) => !cosine.has(id));
  for (const [id, s] of await index.score(base.id, vector!, missing)) cosine.set(id, s);

  const rows = new Map((await chunksWithSources(db, base.ownerId, [...fused.keys()])).map((r) => [r.chunk.id, r]));
  const order =
    mode === 'semantic'
      ? semantic.map((s) => s.chunkId)
      : mode === 'keyword'
        ? keyword
        : [...fused.entries()].sort((a, b) => b[1] - a[1] || (cosine.get(b[0]) ?? 0) - (cosine.get(a[0]) ?? 0)).map(([id]) => id);
  const out: Passage[] = [];
  for (const id of order) {
    const row = rows.get(id);
    const score = cosine.get(id) ?? 0;
    if (!row || (opts.minScore !== undefined && score < opts.minScore)) continue;
    out.push({
      chunk_id: id,
      source_id: row.chunk.sourceId,
      document_id: row.documentId,
      title: row.title,
      heading: row.chunk.heading,
      text: row.chunk.text,
      start_offset: row.chunk.startOffset,
      end_offset: row.chunk.endOffset,
      score,
      semantic_rank: semanticRank.get(id) ?? null,
      keyword_rank: keywordRank.get(id) ?? null,
    });
    if (out.length >= opts.topK) break;
  }
  return out;
}
