import { objectStub } from '../lib/stubs';

/** Lookups of one namespace in one tier since the last report: hits and misses. */
export type CacheCount = { namespace: string; tier: string; hits: number; misses: number };

/** One shard of the cache's counters (durable-objects/cache-stats.ts). */
export interface CacheStatsRpc {
  record(counts: CacheCount[]): void;
  read(): CacheCount[];
}

export const cacheStatsShard = (env: Env, n: number) => objectStub<CacheStatsRpc>(env.CACHE_STATS, `cache-stats:${n}`);
