/**
 * Content-based filtering: TF-IDF over each item's text and features, cosine similarity between
 * items and a user profile — the weighted mean of the vectors of the items the user interacted
 * with (plus any features the request says the user prefers).
 *
 * Features become tokens: `category=electronics` for strings and booleans, and for numbers the
 * order of magnitude (`price~1e2`), so 299.99 and 349 land in the same bucket.
 * The stored artefact keeps the vocabulary's IDF and the item vectors; items added or changed
 * after training are vectorised at request time with that IDF (unseen terms get the IDF of a
 * term found in no document), which is how a new item is recommendable without a retrain.
 */
import { eng } from 'stopword';
import { perObject } from '../../lib/memo';
import { round4 } from './matrix';
import type { ItemDoc, Scored, UserContext } from './scored';

export type ContentArtefact = {
  kind: 'content_based';
  docCount: number;
  terms: string[];
  idf: number[];
  items: string[];
  vectors: number[][];
  maxTerms: number;
};
type Sparse = Map<string, number>;

const STOP = new Set<string>(eng);
const REASONED = 500;
const l2 = (xs: Iterable<number>) => {
  let s = 0;
  for (const x of xs) s += x * x;
  return Math.sqrt(s);
};

export function tokens(doc: ItemDoc): string[] {
  const words = (doc.content.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? []).filter((w) => !STOP.has(w));
  return [...words, ...featureTokens(doc.features)];
}

export function featureTokens(features: Record<string, string | number | boolean>): string[] {
  return Object.entries(features).map(([k, v]) =>
    typeof v === 'number'
      ? `${k.toLowerCase()}~1e${v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)))}`
      : `${k.toLowerCase()}=${String(v).toLowerCase()}`,
  );
}

function tf(words: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/** L2-normalised TF-IDF vector keeping the `maxTerms` heaviest terms. */
function vectorise(counts: Map<string, number>, idf: (term: string) => number, maxTerms: number): Sparse {
  const weighted = [...counts].map(([t, c]) => [t, (1 + Math.log(c)) * idf(t)] as [string, number]);
  weighted.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const kept = weighted.slice(0, maxTerms);
  const norm = l2(kept.map(([, w]) => w)) || 1;
  return new Map(kept.map(([t, w]) => [t, w / norm]));
}

export function trainContent(docs: Map<string, ItemDoc>, maxTerms: number): ContentArtefact {
  const counts = new Map([...docs].map(([k, d]) => [k, tf(tokens(d))]));
  const df = new Map<string, number>();
  for (const c of counts.values()) for (const t of c.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const n = docs.size;
  // Smoothed IDF (as scikit-learn's): never zero, so a term in every document still counts a little.
  const idf = (t: string) => Math.log((1 + n) / (1 + (df.get(t) ?? 0))) + 1;
  const terms = [...df.keys()].sort();
  const termIndex = new Map(terms.map((t, i) => [t, i]));
  const items = [...counts.keys()];
  const vectors = items.map((k) => [...vectorise(counts.get(k)!, idf, maxTerms)].flatMap(([t, w]) => [termIndex.get(t)!, round4(w)]));
  return { kind: 'content_based', docCount: n, terms, idf: terms.map((t) => round4(idf(t))), items, vectors, maxTerms };
}

function cosine(a: Sparse, b: Sparse): number {
  let dot = 0;
  for (const [t, w] of a) dot += w * (b.get(t) ?? 0);
  return dot;
}

/** The trained vectors as maps, built once per (cached, never changed) artefact; never mutated. */
const prepare = perObject((a: ContentArtefact) => {
  const vectors = new Map<string, Sparse>();
  a.items.forEach((key, i) => {
    const flat = a.vectors[i]!;
    const v: Sparse = new Map();
    for (let x = 0; x < flat.length; x += 2) v.set(a.terms[flat[x]!]!, flat[x + 1]!);
    vectors.set(key, v);
  });
  return { idfOf: new Map(a.terms.map((t, i) => [t, a.idf[i]!])), vectors };
});

export function scoreContent(a: ContentArtefact, ctx: UserContext): Scored[] {
  const { idfOf, vectors: trained } = prepare(a);
  const unseenIdf = Math.log(1 + a.docCount) + 1;
  // Items changed since training replace their trained vector for this request only.
  const vectors = ctx.freshItems.size === 0 ? trained : new Map(trained);
  for (const [key, doc] of ctx.freshItems)
    vectors.set(
      key,
      vectorise(tf(tokens(doc)), (t) => idfOf.get(t) ?? unseenIdf, a.maxTerms),
    );

  const profile: Sparse = new Map();
  let total = 0;
  const add = (v: Sparse, w: number) => {
    total += w;
    for (const [t, x] of v) profile.set(t, (profile.get(t) ?? 0) + w * x);
  };
  const known = [...ctx.profile].filter(([k]) => vectors.has(k));
  for (const [k, w] of known) add(vectors.get(k)!, w);
  if (ctx.preferred && Object.keys(ctx.preferred).length > 0) {
    add(
      vectorise(tf(featureTokens(ctx.preferred)), (t) => idfOf.get(t) ?? unseenIdf, a.maxTerms),
      Math.max(1, total),
    );
  }
  if (total === 0) return [];
  const norm = l2(profile.values()) || 1;
  for (const [t, x] of profile) profile.set(t, x / norm);

  const ranked: Array<[string, number]> = [];
  for (const [key, v] of vectors) {
    if (ctx.exclude.has(key) || ctx.profile.has(key)) continue;
    const score = cosine(profile, v);
    if (score > 0) ranked.push([key, score]);
  }
  ranked.sort((x, y) => y[1] - x[1]);
  // Only the best few hundred can reach a response, so only they get a reason computed.
  const preferred = Object.entries(ctx.preferred ?? {})
    .map(([f, x]) => `${f}=${x}`)
    .join(', ');
  return ranked.slice(0, REASONED).map(([key, score]) => {
    let reason = `matches your preferred features (${preferred})`;
    let bestSim = 0;
    for (const [k] of known) {
      const sim = cosine(vectors.get(k)!, vectors.get(key)!);
      if (sim > bestSim) [bestSim, reason] = [sim, `similar to ${k} (content)`];
    }
    return { item: key, score, reason, source: 'content_based' as const };
  });
}
