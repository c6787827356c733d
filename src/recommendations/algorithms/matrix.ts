/**
 * The user×item matrix every algorithm trains on, built from interaction rows. Repeated
 * interactions of one user with one item add up, then `log1p` dampens them, so a hundred views
 * do not outweigh a purchase by a hundred to one.
 */
import { perObject } from '../../lib/memo';

export type InteractionRow = { userKey: string; itemKey: string; weight: number; type: string; rating: number | null };

export type Matrix = {
  users: string[];
  items: string[];
  /** rows[u]: item index → weight. */
  rows: Map<number, number>[];
  userIndex: Map<string, number>;
  itemIndex: Map<string, number>;
};

export function buildMatrix(rows: readonly InteractionRow[], feedback: 'implicit' | 'explicit' = 'implicit'): Matrix {
  const m: Matrix = { users: [], items: [], rows: [], userIndex: new Map(), itemIndex: new Map() };
  const ratingSums = new Map<string, { sum: number; n: number }>();
  for (const r of rows) {
    if (feedback === 'explicit') {
      if (r.type !== 'rating' && r.rating === null) continue;
      const key = `${r.userKey}\u0000${r.itemKey}`;
      const acc = ratingSums.get(key) ?? { sum: 0, n: 0 };
      acc.sum += r.rating ?? r.weight;
      acc.n += 1;
      ratingSums.set(key, acc);
    }
    let u = m.userIndex.get(r.userKey);
    if (u === undefined) {
      m.userIndex.set(r.userKey, (u = m.users.length));
      m.users.push(r.userKey);
      m.rows.push(new Map());
    }
    let i = m.itemIndex.get(r.itemKey);
    if (i === undefined) {
      m.itemIndex.set(r.itemKey, (i = m.items.length));
      m.items.push(r.itemKey);
    }
    const row = m.rows[u]!;
    row.set(i, (row.get(i) ?? 0) + r.weight);
  }
  for (let u = 0; u < m.rows.length; u++) {
    const row = m.rows[u]!;
    for (const [i, w] of row) {
      if (feedback === 'explicit') {
        const acc = ratingSums.get(`${m.users[u]}\u0000${m.items[i]}`)!;
        row.set(i, acc.sum / acc.n);
      } else row.set(i, Math.log1p(w));
    }
  }
  return m;
}

/** Total raw weight per item: the popularity signal. */
export function popularityOf(rows: readonly InteractionRow[]): Map<string, number> {
  const pop = new Map<string, number>();
  for (const r of rows) pop.set(r.itemKey, (pop.get(r.itemKey) ?? 0) + r.weight);
  return pop;
}

/** A user's current profile (item key → dampened weight), the same transform as `buildMatrix`. */
export function profileOf(rows: readonly { itemKey: string; weight: number }[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const r of rows) sums.set(r.itemKey, (sums.get(r.itemKey) ?? 0) + r.weight);
  for (const [k, w] of sums) sums.set(k, Math.log1p(w));
  return sums;
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * key → its position in `keys`, built once per array: an artefact is cached parsed and never
 * changed (src/recommendations/artefact-cache.ts), so its lookups are shared by every request.
 */
export const positions = perObject((keys: readonly string[]) => new Map(keys.map((k, i) => [k, i])));

/** Rounds for storage: four significant decimals are plenty for ranking and halve the JSON. */
export const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** Indices of the k largest values of `scores` among `candidates`, best first. */
export function topK(scores: Float64Array | number[], k: number, keep: (i: number) => boolean = () => true): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (scores[i]! > 0 && keep(i)) idx.push(i);
  idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, k);
}
