import { z } from '@hono/zod-openapi';
import { stemmer } from 'stemmer';
import { eng } from 'stopword';
import { ApiError } from '../lib/errors';

/** Turns passages and queries into vectors whose cosine similarity says how related they are. */
export interface Embedder {
  /** Stored on each base: vectors of different embedders are not comparable. */
  readonly id: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}

const STOP = new Set(eng);

/** Lower-cased word stems (Porter), stop words left out. */
export function terms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((w) => !STOP.has(w) && w.length > 1).map((w) => stemmer(w));
}

/** FNV-1a, 32 bits: a fast, well-spread hash of a feature's name. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The offline embedding used in development and tests (KNOWLEDGE_EMBEDDINGS = "local"), where
 * Workers AI cannot run. It is lexical, not semantic: feature hashing ("the hashing trick") of
 * word stems and adjacent stem pairs, each weighted 1 + log(count), into 1,024 signed buckets,
 * then L2-normalised, so the cosine of two vectors measures shared vocabulary. It finds passages
 * that use the query's words or their inflections ("rotate", "rotating"), never synonyms
 * ("car" does not find "automobile"); hybrid search adds BM25 over the same chunks, which weighs
 * rare words up. It is deterministic, needs no model and no network, and is a fallback, not a
 * substitute for a learned embedding.
 */
export class HashingEmbedder implements Embedder {
  readonly id = 'local-hashing-v1';
  readonly dimensions = 1024;

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((t) => this.vector(t));
  }

  vector(text: string): Float32Array {
    const stems = terms(text);
    const counts = new Map<string, number>();
    const add = (f: string, w: number) => counts.set(f, (counts.get(f) ?? 0) + w);
    stems.forEach((s, i) => {
      add(s, 1);
      // Pairs catch phrases ("rate limit") at half a word's weight.
      if (i > 0) add(`${stems[i - 1]} ${s}`, 0.5);
    });
    const v = new Float32Array(this.dimensions);
    for (const [feature, n] of counts) {
      const h = fnv1a(feature);
      // The top bit picks the sign, so colliding features cancel out on average instead of adding up.
      v[h % this.dimensions]! += (h & 0x80000000 ? -1 : 1) * (1 + Math.log(n));
    }
    let norm = 0;
    for (const x of v) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm;
    return v;
  }
}

/** What the [ai] binding offers, when it is declared (it is not, by default: it cannot run locally). */
export type AiBinding = { run(model: string, input: { text: string[] }): Promise<unknown> };

// Workers AI's answer is checked like any provider's: a changed shape fails loudly here.
const EmbeddingResponse = z.object({ data: z.array(z.array(z.number())) });

/**
 * Workers AI's BGE base model (768 dimensions, English), on Cloudflare. Texts go in batches of
 * 100, the model's limit per call; the model truncates each text at 512 tokens, which the chunk
 * size (about 800 characters) stays under.
 */
export class WorkersAiEmbedder implements Embedder {
  readonly id = '@cf/baai/bge-base-en-v1.5';
  readonly dimensions = 768;
  constructor(private readonly ai: AiBinding) {}

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += 100) {
      let raw: unknown;
      try {
        raw = await this.ai.run(this.id, { text: texts.slice(i, i + 100) });
      } catch (err) {
        throw new ApiError(
          'service_unavailable',
          `Workers AI could not embed the text: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const parsed = EmbeddingResponse.safeParse(raw);
      if (!parsed.success || parsed.data.data.length !== Math.min(100, texts.length - i))
        throw new ApiError('service_unavailable', 'Workers AI returned an unexpected embedding response');
      for (const row of parsed.data.data) out.push(Float32Array.from(row));
    }
    return out;
  }
}
