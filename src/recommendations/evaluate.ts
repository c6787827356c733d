/**
 * Offline evaluation on a per-user leave-some-out split: for every user with at least
 * `min_user_items` distinct items, a seeded shuffle holds out `test_fraction` of them (at least
 * one). The model is trained on the rest, recommends `k` items per user (excluding their training
 * items) and is scored against the held-out items with binary relevance:
 *   precision@k = hits / k, recall@k = hits / |held out|, NDCG@k = DCG / ideal DCG.
 * The popularity baseline is scored on the same split, so the two figures are comparable.
 */
import type { InteractionRow } from './algorithms/matrix';
import { seededRandom } from '../lib/random';
import { popularityOf, profileOf, shuffle } from './algorithms/matrix';
import type { ItemDoc } from './algorithms/scored';
import { recommend, train } from './engine';
import type { Algorithm } from './weights';

export type EvalOptions = { k: number; test_fraction: number; seed: number; min_user_items: number; max_users: number };
export type Metrics = { precision_at_k: number; recall_at_k: number; ndcg_at_k: number };

function groupByUser(rows: readonly InteractionRow[]) {
  const byUser = new Map<string, InteractionRow[]>();
  for (const r of rows) {
    const list = byUser.get(r.userKey);
    if (list) list.push(r);
    else byUser.set(r.userKey, [r]);
  }
  return byUser;
}

export function split(rows: readonly InteractionRow[], o: EvalOptions) {
  const byUser = groupByUser(rows);
  const random = seededRandom(o.seed);
  const trainRows: InteractionRow[] = [];
  const heldOut = new Map<string, Set<string>>();
  // Sorted keys: the split depends on the seed and the data, not on row order.
  for (const user of [...byUser.keys()].sort()) {
    const mine = byUser.get(user)!;
    const items = [...new Set(mine.map((r) => r.itemKey))].sort();
    if (items.length < o.min_user_items || heldOut.size >= o.max_users) {
      trainRows.push(...mine);
      continue;
    }
    const test = new Set(shuffle(items, random).slice(0, Math.max(1, Math.round(items.length * o.test_fraction))));
    heldOut.set(user, test);
    trainRows.push(...mine.filter((r) => !test.has(r.itemKey)));
  }
  return { trainRows, heldOut };
}

export function metricsFor(ranked: string[], relevant: Set<string>, k: number): Metrics {
  let hits = 0;
  let dcg = 0;
  ranked.slice(0, k).forEach((item, i) => {
    if (relevant.has(item)) {
      hits++;
      dcg += 1 / Math.log2(i + 2);
    }
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return { precision_at_k: hits / k, recall_at_k: hits / relevant.size, ndcg_at_k: ideal ? dcg / ideal : 0 };
}

const mean = (xs: Metrics[]): Metrics => {
  const n = xs.length || 1;
  const sum = (f: keyof Metrics) => Math.round((xs.reduce((s, m) => s + m[f], 0) / n) * 1e4) / 1e4;
  return { precision_at_k: sum('precision_at_k'), recall_at_k: sum('recall_at_k'), ndcg_at_k: sum('ndcg_at_k') };
};

export function evaluate(
  algorithm: Algorithm,
  params: Record<string, unknown>,
  rows: readonly InteractionRow[],
  docs: Map<string, ItemDoc>,
  o: EvalOptions,
) {
  const { trainRows, heldOut } = split(rows, o);
  const popularity = popularityOf(trainRows);
  const model = train(algorithm, params, { rows: trainRows, docs });
  const baseline = train('popularity', {}, { rows: trainRows, docs });
  const byUser = groupByUser(trainRows);
  const modelScores: Metrics[] = [];
  const baselineScores: Metrics[] = [];
  for (const [user, relevant] of heldOut) {
    const profile = profileOf(byUser.get(user) ?? []);
    const ctx = { userKey: user, profile, exclude: new Set(profile.keys()), popularity, freshItems: new Map(), preferred: null };
    modelScores.push(
      metricsFor(
        recommend(model, params, ctx, o.k).items.map((s) => s.item),
        relevant,
        o.k,
      ),
    );
    baselineScores.push(
      metricsFor(
        recommend(baseline, {}, ctx, o.k).items.map((s) => s.item),
        relevant,
        o.k,
      ),
    );
  }
  return {
    k: o.k,
    seed: o.seed,
    test_fraction: o.test_fraction,
    users_evaluated: heldOut.size,
    held_out_items: [...heldOut.values()].reduce((s, t) => s + t.size, 0),
    training_interactions: trainRows.length,
    model: mean(modelScores),
    popularity_baseline: mean(baselineScores),
  };
}
