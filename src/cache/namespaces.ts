import type { TierName } from './tier';

/*
 * What is cached, where, and for how long. The rule that keeps the cache correct: only values
 * that cannot change under their key are cached, so no tier ever needs to be told about a change
 * for a response to stay right — a clear only frees space or forces a recomputation.
 *
 * - `apikey`:   presented keys that resolved to nothing (unknown, revoked or expired hash). All
 *               three are final: a revoked key is never un-revoked, an expiry is never moved, and a
 *               new key is 256 random bits that nobody can present before it exists. Keys that do
 *               resolve are never cached, so revocation and role changes apply to the next
 *               request (docs/api/cache.md). Memory only: a flood of random keys must not become a
 *               flood of KV writes.
 * - `workflow`: immutable `workflow_versions` rows, by (workflow id, version). The current
 *               version number is always read from D1 first, so an update is seen at once.
 * - `ai`:       deterministic AI results, by a hash of provider, model, task, messages and
 *               parameters.
 * - `public`:   public GET responses that are the same for every caller (the OpenAPI document).
 */
export const NAMESPACES = {
  apikey: { tiers: ['memory'], ttlSeconds: 300, memory: { maxEntries: 2_000, maxBytes: 256 * 1024 } },
  workflow: { tiers: ['memory', 'kv'], ttlSeconds: 86_400, memoryTtlSeconds: 600, memory: { maxEntries: 500, maxBytes: 4 * 1024 * 1024 } },
  ai: { tiers: ['memory', 'kv'], ttlSeconds: 86_400, memoryTtlSeconds: 300, memory: { maxEntries: 200, maxBytes: 4 * 1024 * 1024 } },
  public: { tiers: ['memory', 'edge'], ttlSeconds: 300, memoryTtlSeconds: 60, memory: { maxEntries: 20, maxBytes: 4 * 1024 * 1024 } },
} as const satisfies Record<string, NamespaceConfig>;

export type NamespaceConfig = {
  tiers: readonly TierName[];
  ttlSeconds: number;
  /** Shorter TTL for the per-isolate copy: it bounds how long a clear takes to reach other isolates. */
  memoryTtlSeconds?: number;
  memory: { maxEntries: number; maxBytes: number };
};

export type Namespace = keyof typeof NAMESPACES;
export const NAMESPACE_NAMES = Object.keys(NAMESPACES) as [Namespace, ...Namespace[]];
