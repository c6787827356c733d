import type { z } from '@hono/zod-openapi';
import type { CacheCount } from './rpc';
import { log } from '../lib/log';
import { EdgeTier } from './edge';
import { KvTier } from './kv';
import { Lru, MemoryTier } from './memory';
import { NAMESPACES, type Namespace } from './namespaces';
import { recordCounts } from './stats';
import type { CacheTier } from './tier';

/**
 * Where a cache call runs: the bindings, and the request's `waitUntil` when there is a request
 * (stats and slow-tier writes then finish after the response). Without one — inside a Durable
 * Object — they are awaited instead.
 */
export type CacheScope = { env: Env; waitUntil?: ((p: Promise<unknown>) => void) | undefined };

// One LRU per namespace per isolate: a per-isolate copy, never the truth (STYLE.md rule 8).
const memory = new Map<Namespace, Lru>();

function memoryTier(ns: Namespace): MemoryTier {
  let lru = memory.get(ns);
  if (!lru) memory.set(ns, (lru = new Lru(NAMESPACES[ns].memory)));
  return new MemoryTier(lru);
}

/** The tiers of a namespace, fastest first. */
export function tiersOf(env: Env, ns: Namespace): CacheTier[] {
  return NAMESPACES[ns].tiers.map((t) => (t === 'memory' ? memoryTier(ns) : t === 'kv' ? new KvTier(env.CACHE) : new EdgeTier()));
}

const ttlIn = (ns: Namespace, tier: CacheTier) => {
  const cfg: { ttlSeconds: number; memoryTtlSeconds?: number } = NAMESPACES[ns];
  return tier.name === 'memory' ? (cfg.memoryTtlSeconds ?? cfg.ttlSeconds) : cfg.ttlSeconds;
};

function background(scope: CacheScope, what: string, p: Promise<unknown>): Promise<void> {
  const safe = p.then(
    () => undefined,
    (e: unknown) => log(scope.env.LOG_LEVEL, 'warn', `cache ${what} failed`, { error: String(e) }),
  );
  if (scope.waitUntil) {
    scope.waitUntil(safe);
    return Promise.resolve();
  }
  return safe;
}

type Options<T> = {
  /** Checks values read back from KV or the Cache API (written by an older deploy, perhaps). */
  schema: z.ZodType<T>;
  tags?: readonly string[];
  /** Which loaded values to keep (by default all); lookups that load a value not kept are not counted. */
  store?: (value: T) => boolean;
};

/**
 * Returns the value under `key` in namespace `ns` from the first tier that has it, filling the
 * faster tiers on the way back, or else `load()`s it and stores it in every tier. Each lookup's
 * outcome is counted exactly (src/cache/stats.ts). A tier that fails is skipped: the cache can
 * make a request faster, never make it fail.
 *
 * @example
 * const row = await cached({ env, waitUntil }, 'workflow', `${id}:${version}`, () => readVersion(db, id, version), { schema: VersionSchema });
 */
export async function cached<T>(scope: CacheScope, ns: Namespace, key: string, load: () => Promise<T>, opts: Options<T>): Promise<T> {
  const fullKey = `${ns}:${key}`;
  const tiers = tiersOf(scope.env, ns);
  const counts: CacheCount[] = [];
  const count = (tier: string, hit: boolean) => counts.push({ namespace: ns, tier, hits: hit ? 1 : 0, misses: hit ? 0 : 1 });
  const entry = (tier: CacheTier, size: number) => ({ ttlSeconds: ttlIn(ns, tier), tags: opts.tags ?? [], size });
  try {
    for (const [i, tier] of tiers.entries()) {
      const raw = await tier.get(fullKey).catch((e: unknown) => {
        log(scope.env.LOG_LEVEL, 'warn', 'cache tier read failed', { tier: tier.name, error: String(e) });
        return undefined;
      });
      // The memory tier holds only what this isolate stored; the others are checked.
      const parsed =
        raw === undefined ? undefined : tier.name === 'memory' ? { success: true as const, data: raw as T } : opts.schema.safeParse(raw);
      if (parsed?.success) {
        count(tier.name, true);
        count('all', true);
        const size = JSON.stringify(parsed.data).length;
        for (const faster of tiers.slice(0, i)) await background(scope, 'fill', faster.put(fullKey, parsed.data, entry(faster, size)));
        return parsed.data;
      }
      count(tier.name, false);
    }
    count('all', false);
    const value = await load();
    if (opts.store && !opts.store(value)) {
      // A value the namespace never keeps (a valid API key) was not a cache lookup: counting it
      // as a miss would only measure traffic, and would cost a stats call on every request.
      counts.length = 0;
      return value;
    }
    const size = JSON.stringify(value).length;
    for (const tier of tiers) await background(scope, 'write', tier.put(fullKey, value, entry(tier, size)));
    return value;
  } finally {
    await background(scope, 'stats', recordCounts(scope.env, counts));
  }
}
