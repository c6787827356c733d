import { ApiError } from '../lib/errors';
import { type AiBinding, type Embedder, HashingEmbedder, WorkersAiEmbedder } from './embedding';

export type Scored = { chunkId: number; score: number };

/** Where chunk vectors live and how the nearest ones are found. Scores are cosine similarities. */
export interface VectorIndex {
  upsert(baseId: number, items: { chunkId: number; vector: Float32Array }[]): Promise<void>;
  /** The `topK` chunks of the base nearest to `vector`, best first. */
  query(baseId: number, vector: Float32Array, topK: number): Promise<Scored[]>;
  /** The similarity of `vector` to each of these chunks of the base (those the index holds). */
  score(baseId: number, vector: Float32Array, chunkIds: number[]): Promise<Map<number, number>>;
  /** Forgets chunks' vectors. D1 rows go with their chunks (ON DELETE CASCADE); Vectorize needs telling. */
  remove(chunkIds: number[]): Promise<void>;
}

/*
 * Sparse storage for the local index: a hashed vector has a few dozen to a few hundred non-zero
 * entries of 1,024, so it is stored as (index, weight) pairs, both float32 (indexes below 2^24
 * are exact), about 1 KB for a typical chunk instead of 4 KB.
 */
function pack(v: Float32Array): Uint8Array {
  const pairs: number[] = [];
  v.forEach((x, i) => {
    if (x !== 0) pairs.push(i, x);
  });
  return new Uint8Array(Float32Array.from(pairs).buffer);
}

/** D1 returns a BLOB as an array of byte values (or an ArrayBuffer, depending on the driver path). */
function unpackDot(blob: ArrayBuffer | number[], query: Float32Array): number {
  const bytes = blob instanceof ArrayBuffer ? new Uint8Array(blob) : Uint8Array.from(blob);
  const pairs = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let dot = 0;
  for (let i = 0; i < pairs.length; i += 2) dot += query[pairs[i]!]! * pairs[i + 1]!;
  return dot;
}

/** Vectors both sides normalised to length 1 make the dot product the cosine. */
const BATCH = 100;

/**
 * The local index: vectors in D1 (knowledge_vectors), nearest neighbours by scanning the base's
 * vectors. Exact, and linear in the base's size: fine for a development base of some thousands
 * of chunks (a query reads about 1 KB per chunk), not meant for production scale, which is what
 * Vectorize is for.
 */
export class LocalVectorIndex implements VectorIndex {
  constructor(private readonly d1: D1Database) {}

  async upsert(baseId: number, items: { chunkId: number; vector: Float32Array }[]) {
    for (let i = 0; i < items.length; i += BATCH) {
      const stmt = this.d1.prepare('INSERT OR REPLACE INTO knowledge_vectors (chunk_id, base_id, vector) VALUES (?, ?, ?)');
      await this.d1.batch(items.slice(i, i + BATCH).map((it) => stmt.bind(it.chunkId, baseId, pack(it.vector))));
    }
  }

  async query(baseId: number, vector: Float32Array, topK: number): Promise<Scored[]> {
    const { results } = await this.d1
      .prepare('SELECT chunk_id, vector FROM knowledge_vectors WHERE base_id = ?')
      .bind(baseId)
      .all<{ chunk_id: number; vector: ArrayBuffer | number[] }>();
    // A hashed vector that shares no feature with the query scores 0: not a neighbour, only a row.
    return results
      .map((r) => ({ chunkId: r.chunk_id, score: unpackDot(r.vector, vector) }))
      .filter((r) => r.score > 0)
      .sort((a, b) => b.score - a.score || a.chunkId - b.chunkId)
      .slice(0, topK);
  }

  async score(baseId: number, vector: Float32Array, chunkIds: number[]) {
    const out = new Map<number, number>();
    if (chunkIds.length === 0) return out;
    const { results } = await this.d1
      .prepare(`SELECT chunk_id, vector FROM knowledge_vectors WHERE base_id = ? AND chunk_id IN (${chunkIds.map(() => '?').join(',')})`)
      .bind(baseId, ...chunkIds)
      .all<{ chunk_id: number; vector: ArrayBuffer | number[] }>();
    for (const r of results) out.set(r.chunk_id, unpackDot(r.vector, vector));
    return out;
  }

  async remove() {}
}

const vectorId = (chunkId: number) => `c${chunkId}`;

/**
 * Vectorize on Cloudflare. Each vector is keyed by its chunk id and carries its base id as
 * metadata; queries filter on it, which needs the metadata index made in the one-time setup
 * (docs/api/knowledge-bases.md). Vectorize applies writes asynchronously: a source is searchable
 * semantically a few seconds after it is added (by keyword at once).
 */
export class VectorizeVectorIndex implements VectorIndex {
  constructor(private readonly index: VectorizeIndex) {}

  async upsert(baseId: number, items: { chunkId: number; vector: Float32Array }[]) {
    for (let i = 0; i < items.length; i += 500)
      await this.index.upsert(
        items.slice(i, i + 500).map((it) => ({ id: vectorId(it.chunkId), values: Array.from(it.vector), metadata: { base_id: baseId } })),
      );
  }

  async query(baseId: number, vector: Float32Array, topK: number): Promise<Scored[]> {
    const r = await this.index.query(Array.from(vector), { topK: Math.min(topK, 100), filter: { base_id: baseId } });
    return r.matches.map((m) => ({ chunkId: Number(m.id.slice(1)), score: m.score }));
  }

  async score(_baseId: number, vector: Float32Array, chunkIds: number[]) {
    const out = new Map<number, number>();
    for (let i = 0; i < chunkIds.length; i += 20) {
      for (const v of await this.index.getByIds(chunkIds.slice(i, i + 20).map(vectorId))) {
        const values = Array.from(v.values);
        let dot = 0;
        let norm = 0;
        values.forEach((x, j) => {
          dot += x * vector[j]!;
          norm += x * x;
        });
        out.set(Number(v.id.slice(1)), norm > 0 ? dot / Math.sqrt(norm) : 0);
      }
    }
    return out;
  }

  async remove(chunkIds: number[]) {
    for (let i = 0; i < chunkIds.length; i += 500) await this.index.deleteByIds(chunkIds.slice(i, i + 500).map(vectorId));
  }
}

export type KnowledgeEnv = Env & { AI?: AiBinding };
export type Backend = { embedder: Embedder; index: VectorIndex };

/**
 * The embedding and index for this deployment, chosen the way src/ai chooses a provider: by a
 * variable (KNOWLEDGE_EMBEDDINGS), "local" when unset. "workers-ai" needs the [ai] binding, which
 * is not declared by default; a deployment that asks for it without the binding is refused loudly
 * rather than silently indexing with another embedding.
 */
export function knowledgeBackend(env: KnowledgeEnv): Backend {
  const choice = (env.KNOWLEDGE_EMBEDDINGS ?? '').trim() || 'local';
  if (choice === 'workers-ai') {
    if (!env.AI) throw new ApiError('service_unavailable', 'KNOWLEDGE_EMBEDDINGS is "workers-ai" but the [ai] binding is not configured');
    return { embedder: new WorkersAiEmbedder(env.AI), index: new VectorizeVectorIndex(env.VECTORIZE) };
  }
  if (choice !== 'local') throw new ApiError('service_unavailable', `KNOWLEDGE_EMBEDDINGS "${choice}" is not one of local, workers-ai`);
  return { embedder: new HashingEmbedder(), index: new LocalVectorIndex(env.DB) };
}
