import { DurableObject } from 'cloudflare:workers';
import type { CacheCount, CacheStatsRpc } from '../src/cache/rpc';

/**
 * CacheStats — one shard of the cache's hit and miss counters (`idFromName("cache-stats:<n>")`,
 * see src/cache/stats.ts). Every isolate reports each lookup's outcome to a shard picked at
 * random, so the totals are counted across all isolates rather than guessed from one. A Durable
 * Object is a single writer, so each `record` is applied exactly once and in full (its SQL runs in
 * one implicit transaction: storage writes made without an intervening await are committed
 * together). Counts live in SQLite storage and survive eviction. Sharding spreads the write load:
 * one object handles on the order of a thousand small calls a second.
 */

export class CacheStats extends DurableObject<Env> implements CacheStatsRpc {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS counts (namespace TEXT NOT NULL, tier TEXT NOT NULL, hits INTEGER NOT NULL, misses INTEGER NOT NULL, PRIMARY KEY (namespace, tier))',
    );
  }

  record(counts: CacheCount[]): void {
    for (const c of counts) {
      this.ctx.storage.sql.exec(
        `INSERT INTO counts (namespace, tier, hits, misses) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, tier) DO UPDATE SET hits = hits + excluded.hits, misses = misses + excluded.misses`,
        c.namespace,
        c.tier,
        c.hits,
        c.misses,
      );
    }
  }

  read(): CacheCount[] {
    return this.ctx.storage.sql.exec<CacheCount>('SELECT namespace, tier, hits, misses FROM counts').toArray();
  }
}
