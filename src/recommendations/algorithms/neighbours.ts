/**
 * Neighbourhood collaborative filtering with cosine similarity on the weighted interaction matrix.
 *
 * Item-based: training keeps each item's top-k most similar items; a user's score for item j is
 * the sum over the items i they interacted with of weight(i) × sim(i, j).
 * User-based: training stores the (sparse, dampened) user rows; neighbours are found at request
 * time from the user's *current* interactions, so a new interaction changes them at once.
 * Both store sparse vectors as flat `[index, value, index, value, …]` arrays to keep JSON small.
 */
import { positions, round4, topK, type Matrix } from './matrix';
import type { Scored, UserContext } from './scored';

export type ItemCfArtefact = { kind: 'item_based_cf'; items: string[]; neighbours: number[][] };
export type UserCfArtefact = { kind: 'user_based_cf'; users: string[]; items: string[]; rows: number[][] };
type Neighbourhood = { neighbors: number; min_similarity: number };

export function trainItemCf(m: Matrix, p: Neighbourhood): ItemCfArtefact {
  const n = m.items.length;
  const columns: Array<Array<[number, number]>> = Array.from({ length: n }, () => []);
  m.rows.forEach((row, u) => {
    for (const [i, w] of row) columns[i]!.push([u, w]);
  });
  const norms = columns.map((col) => Math.sqrt(col.reduce((s, [, w]) => s + w * w, 0)));
  const scratch = new Float64Array(n);
  const neighbours: number[][] = [];
  for (let i = 0; i < n; i++) {
    const touched: number[] = [];
    for (const [u, wi] of columns[i]!) {
      for (const [j, wj] of m.rows[u]!) {
        if (j === i) continue;
        if (scratch[j] === 0) touched.push(j);
        scratch[j]! += wi * wj;
      }
    }
    for (const j of touched) scratch[j] = scratch[j]! / (norms[i]! * norms[j]! || 1);
    const keep = topK(scratch, p.neighbors, (j) => scratch[j]! >= p.min_similarity);
    neighbours.push(keep.flatMap((j) => [j, round4(scratch[j]!)]));
    for (const j of touched) scratch[j] = 0;
  }
  return { kind: 'item_based_cf', items: m.items, neighbours };
}

export function scoreItemCf(a: ItemCfArtefact, ctx: UserContext): Scored[] {
  const index = positions(a.items);
  const scores = new Float64Array(a.items.length);
  const because = new Int32Array(a.items.length).fill(-1);
  const strongest = new Float64Array(a.items.length);
  // Weights and similarities are never negative, so an item scores above 0 exactly when some
  // contribution was positive: only those are visited below, not every item of the model.
  const touched: number[] = [];
  for (const [key, w] of ctx.profile) {
    const i = index.get(key);
    if (i === undefined) continue;
    const list = a.neighbours[i]!;
    for (let x = 0; x < list.length; x += 2) {
      const j = list[x]!;
      const contribution = w * list[x + 1]!;
      scores[j]! += contribution;
      if (contribution > strongest[j]!) {
        if (because[j] === -1) touched.push(j);
        strongest[j] = contribution;
        because[j] = i;
      }
    }
  }
  const out: Scored[] = [];
  for (const j of touched) {
    const s = scores[j]!;
    if (s > 0)
      out.push({
        item: a.items[j]!,
        score: s,
        reason: `users who liked ${a.items[because[j]!]} also liked ${a.items[j]}`,
        source: 'item_based_cf',
      });
  }
  return out;
}

export function trainUserCf(m: Matrix): UserCfArtefact {
  const rows = m.rows.map((row) => [...row].flatMap(([i, w]) => [i, round4(w)]));
  return { kind: 'user_based_cf', users: m.users, items: m.items, rows };
}

export function scoreUserCf(a: UserCfArtefact, p: Neighbourhood, ctx: UserContext): Scored[] {
  const index = positions(a.items);
  const mine = new Float64Array(a.items.length);
  let myNorm = 0;
  for (const [key, w] of ctx.profile) {
    const i = index.get(key);
    if (i === undefined) continue;
    mine[i] = w;
    myNorm += w * w;
  }
  if (myNorm === 0) return [];
  myNorm = Math.sqrt(myNorm);
  const sims: Array<{ v: number; sim: number }> = [];
  a.rows.forEach((row, v) => {
    if (a.users[v] === ctx.userKey) return;
    let dot = 0;
    let norm = 0;
    for (let x = 0; x < row.length; x += 2) {
      dot += mine[row[x]!]! * row[x + 1]!;
      norm += row[x + 1]! ** 2;
    }
    const sim = dot / (myNorm * Math.sqrt(norm) || 1);
    if (sim > 0 && sim >= p.min_similarity) sims.push({ v, sim });
  });
  sims.sort((x, y) => y.sim - x.sim || x.v - y.v);
  const scores = new Float64Array(a.items.length);
  const supporters = new Int32Array(a.items.length);
  for (const { v, sim } of sims.slice(0, p.neighbors)) {
    const row = a.rows[v]!;
    for (let x = 0; x < row.length; x += 2) {
      scores[row[x]!]! += sim * row[x + 1]!;
      supporters[row[x]!]! += 1;
    }
  }
  const out: Scored[] = [];
  scores.forEach((s, j) => {
    if (s > 0) {
      const n = supporters[j]!;
      out.push({
        item: a.items[j]!,
        score: s,
        reason: `liked by ${n} user${n === 1 ? '' : 's'} with similar taste`,
        source: 'user_based_cf',
      });
    }
  });
  return out;
}
