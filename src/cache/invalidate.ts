import { tiersOf } from './cache';
import { KvTier } from './kv';
import { NAMESPACE_NAMES, type Namespace } from './namespaces';
import type { TierName } from './tier';

export type ClearTarget =
  | { scope: 'all' }
  | { scope: 'namespace'; namespace: Namespace }
  | { scope: 'prefix'; namespace: Namespace; prefix: string }
  | { scope: 'key'; namespace: Namespace; key: string }
  | { scope: 'tag'; tag: string };

/** Entries removed per tier; null where the tier cannot be enumerated (the Cache API). */
export type Cleared = Record<TierName, number | null>;

/**
 * Removes entries from every tier that holds them, and says how many each tier removed. What
 * "every" means has limits, stated in docs/api/cache.md, "Invalidation": this isolate's memory tier is cleared, other
 * isolates' copies expire within the namespace's memory TTL; KV deletes reach other locations
 * within about 60 s; the Cache API is cleared by key only, in this data centre only.
 */
export async function clearCache(env: Env, target: ClearTarget): Promise<Cleared> {
  const out: Cleared = { memory: 0, kv: 0, edge: 0 };
  const add = (tier: TierName, n: number | null) => {
    const prior = out[tier];
    out[tier] = n === null || prior === null ? null : prior + n;
  };
  const namespaces = target.scope === 'all' || target.scope === 'tag' ? NAMESPACE_NAMES : [target.namespace];
  for (const ns of namespaces) {
    for (const tier of tiersOf(env, ns)) {
      // Tag records in KV are not per namespace: that tier is cleared by tag once, below.
      if (target.scope === 'tag' && tier.name === 'kv') continue;
      const n =
        target.scope === 'key'
          ? await tier.delete(`${ns}:${target.key}`)
          : target.scope === 'tag'
            ? await tier.deleteTag(target.tag)
            : await tier.deletePrefix(`${ns}:${target.scope === 'prefix' ? target.prefix : ''}`);
      add(tier.name, n);
    }
  }
  if (target.scope === 'tag') add('kv', await new KvTier(env.CACHE).deleteTag(target.tag));
  return out;
}
