/**
 * Seeded synthetic data for scenario 7: the same seed gives the same rows on every run and
 * machine, so figures from different runs train on identical data.
 */

import { seededRandom as rng } from '../../src/lib/random';

/** Standard normal by Box–Muller. */
function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

export const ML_FEATURES = 8;
export const ML_CLASSES = ['alpha', 'beta', 'gamma'] as const;
const REGIONS = ['north', 'south', 'east', 'west'] as const;

export type MlRow = Record<string, number | string>;

/**
 * `n` rows of a 3-class problem with real structure: each class has its own mean on each of the
 * 8 numeric features (drawn once from N(0, 1.2²)), rows add N(0, 1) noise, so classes overlap
 * but are separable well above chance; the categorical `region` leans towards one value per
 * class (55% that one, the rest uniform). Values are rounded to 3 decimals (smaller bodies).
 */
export function classificationRows(n: number, seed: number): MlRow[] {
  const r = rng(seed);
  const means = ML_CLASSES.map(() => Array.from({ length: ML_FEATURES }, () => normal(r) * 1.2));
  const rows: MlRow[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * ML_CLASSES.length);
    const row: MlRow = {};
    for (let j = 0; j < ML_FEATURES; j++) row[`f${j}`] = Math.round((means[k]![j]! + normal(r)) * 1000) / 1000;
    row.region = r() < 0.55 ? REGIONS[k]! : REGIONS[Math.floor(r() * REGIONS.length)]!;
    row.label = ML_CLASSES[k]!;
    rows.push(row);
  }
  return rows;
}

export type Interaction = { user_id: string; item_id: string; interaction_type: 'view' | 'like' | 'purchase' };

/**
 * Interactions of `users` users with `items` items in `groups` latent taste groups: item i is in
 * group i mod groups, user u in group u mod groups; each user touches `perUser` distinct items,
 * 85% from their own group and the rest from anywhere, as views (60%), likes (30%) or purchases
 * (10%). Item-based CF can then find each group's items as neighbours of each other.
 */
export function interactions(users: number, items: number, groups: number, perUser: number, seed: number): Interaction[] {
  const r = rng(seed);
  const perGroup = Math.floor(items / groups);
  const out: Interaction[] = [];
  for (let u = 0; u < users; u++) {
    const g = u % groups;
    const seen = new Set<number>();
    while (seen.size < perUser) {
      const item = r() < 0.85 ? Math.floor(r() * perGroup) * groups + g : Math.floor(r() * items);
      if (seen.has(item)) continue;
      seen.add(item);
      const t = r();
      out.push({ user_id: `u${u}`, item_id: `i${item}`, interaction_type: t < 0.6 ? 'view' : t < 0.9 ? 'like' : 'purchase' });
    }
  }
  return out;
}
