/**
 * One storage tier of the cache. Three implementations exist — per-isolate memory, Workers KV
 * and the Cache API — and a namespace reads them in order, fastest first (src/cache/cache.ts).
 *
 * Keys passed to a tier are already namespaced (`<namespace>:<key>`). Values are JSON values and
 * are treated as immutable once stored: the memory tier hands out the stored object itself.
 */
export interface CacheTier {
  readonly name: TierName;
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown, entry: { ttlSeconds: number; tags: readonly string[]; size: number }): Promise<void>;
  delete(key: string): Promise<number>;
  /**
   * Removes every entry whose key starts with `prefix` (or carries `tag`) and says how many it
   * removed, or null when the tier cannot enumerate its entries (the Cache API cannot).
   */
  deletePrefix(prefix: string): Promise<number | null>;
  deleteTag(tag: string): Promise<number | null>;
}

export const TIERS = ['memory', 'edge', 'kv'] as const;
export type TierName = (typeof TIERS)[number];
