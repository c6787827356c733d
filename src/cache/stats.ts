import { cacheStatsShard, type CacheCount } from './rpc';
import { NAMESPACES, NAMESPACE_NAMES, type Namespace } from './namespaces';
import type { TierName } from './tier';

/*
 * Counts are kept in CacheStats objects (durable-objects/cache-stats.ts), never in module memory:
 * isolates come and go, and two isolates would each know only their own share. Each lookup
 * sends its outcome, once, to one shard picked at random; reading sums every shard, so the total
 * is exact whichever shard took a count. The send runs under `waitUntil` (after the response
 * when there is a request), so it adds no latency to the lookup that caused it.
 */
export const STATS_SHARDS = 8;

export async function recordCounts(env: Env, counts: CacheCount[]): Promise<void> {
  if (counts.length === 0) return;
  await cacheStatsShard(env, Math.floor(Math.random() * STATS_SHARDS)).record(counts);
}

type Tally = { hits: number; misses: number; hit_ratio: number | null };
const tally = (hits: number, misses: number): Tally => ({ hits, misses, hit_ratio: hits + misses === 0 ? null : hits / (hits + misses) });

export type CacheStatsView = {
  totals: Tally;
  namespaces: (Tally & { namespace: Namespace; ttl_seconds: number; tiers: (Tally & { tier: TierName })[] })[];
};

/**
 * Hits and misses per namespace and per tier, summed over every shard. A namespace's own hits are
 * lookups answered by any tier, its misses lookups that had to load the value from its source
 * (D1, the AI provider, the handler); a tier's misses are lookups that reached it and moved on.
 */
export async function readStats(env: Env): Promise<CacheStatsView> {
  const shards = await Promise.all(Array.from({ length: STATS_SHARDS }, (_, n) => cacheStatsShard(env, n).read()));
  const sum = new Map<string, { hits: number; misses: number }>();
  for (const c of shards.flat()) {
    const k = `${c.namespace}/${c.tier}`;
    const s = sum.get(k) ?? { hits: 0, misses: 0 };
    s.hits += c.hits;
    s.misses += c.misses;
    sum.set(k, s);
  }
  const at = (ns: string, tier: string) => sum.get(`${ns}/${tier}`) ?? { hits: 0, misses: 0 };
  const namespaces = NAMESPACE_NAMES.map((ns) => {
    const all = at(ns, 'all');
    return {
      namespace: ns,
      ttl_seconds: NAMESPACES[ns].ttlSeconds,
      ...tally(all.hits, all.misses),
      tiers: NAMESPACES[ns].tiers.map((tier) => ({ tier, ...tally(at(ns, tier).hits, at(ns, tier).misses) })),
    };
  });
  const hits = namespaces.reduce((n, s) => n + s.hits, 0);
  const misses = namespaces.reduce((n, s) => n + s.misses, 0);
  return { totals: tally(hits, misses), namespaces };
}
