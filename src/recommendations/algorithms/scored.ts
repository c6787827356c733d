import type { Algorithm } from '../weights';

/** One recommended item: the score is comparable only within one response. */
export type Scored = { item: string; score: number; reason: string; source: Algorithm };

/**
 * What a recommendation request knows about the user at request time, read live from D1 (or from
 * the training split during evaluation): this is what makes new interactions count before a
 * retrain.
 */
export type UserContext = {
  userKey: string | null;
  /** item key → dampened weight (see profileOf). */
  profile: Map<string, number>;
  /** Items never to recommend (already interacted, when asked). */
  exclude: Set<string>;
  /** item key → total interaction weight over the whole dataset. */
  popularity: Map<string, number>;
  /** Item documents added or changed after training, vectorised with the trained vocabulary. */
  freshItems: Map<string, ItemDoc>;
  /** Features the caller says the user prefers (cold start). */
  preferred: Record<string, string | number | boolean> | null;
};

export type ItemDoc = { features: Record<string, string | number | boolean>; content: string };

/** Sorts descending by score (ties by item key, for stable output) and keeps n not excluded. */
export function best(scored: Iterable<Scored>, n: number, exclude: Set<string>): Scored[] {
  const out = [...scored].filter((s) => s.score > 0 && !exclude.has(s.item));
  out.sort((a, b) => b.score - a.score || (a.item < b.item ? -1 : 1));
  return out.slice(0, n);
}
