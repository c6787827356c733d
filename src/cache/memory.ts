import type { CacheTier } from './tier';

type Slot = { value: unknown; expiresAt: number; size: number; tags: readonly string[] };

/**
 * A least-recently-used map with a time to live, bounded both by entry count and by an
 * approximate byte size (the length of the value's JSON). A JavaScript `Map` iterates in
 * insertion order, so re-inserting on every hit keeps the least recently used entry first and
 * eviction is `keys().next()`. Expired entries are dropped when met, and evicted first by LRU
 * order like any other.
 *
 * @example
 * const lru = new Lru({ maxEntries: 100, maxBytes: 65_536 });
 * lru.set('k', { a: 1 }, { ttlSeconds: 60, size: 7 });
 * lru.get('k'); // { a: 1 }
 */
export class Lru {
  private readonly slots = new Map<string, Slot>();
  private bytes = 0;

  constructor(
    readonly limits: { maxEntries: number; maxBytes: number },
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: string): unknown {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.expiresAt <= this.now()) {
      this.remove(key, slot);
      return undefined;
    }
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** The value stored under `key`, without counting as a use (its place in LRU order stays). */
  peek(key: string): unknown {
    return this.slots.get(key)?.value;
  }

  /** Stores the value unless it alone exceeds the byte bound; evicts from the cold end to fit. */
  set(key: string, value: unknown, entry: { ttlSeconds: number; size: number; tags?: readonly string[] }): boolean {
    const old = this.slots.get(key);
    if (old) this.remove(key, old);
    if (entry.size > this.limits.maxBytes || entry.ttlSeconds <= 0) return false;
    while (this.slots.size >= this.limits.maxEntries || this.bytes + entry.size > this.limits.maxBytes) {
      const coldest = this.slots.keys().next();
      if (coldest.done) break;
      this.remove(coldest.value, this.slots.get(coldest.value)!);
    }
    this.slots.set(key, { value, expiresAt: this.now() + entry.ttlSeconds * 1000, size: entry.size, tags: entry.tags ?? [] });
    this.bytes += entry.size;
    return true;
  }

  delete(key: string): number {
    const slot = this.slots.get(key);
    if (!slot) return 0;
    this.remove(key, slot);
    return 1;
  }

  deleteWhere(match: (key: string, tags: readonly string[]) => boolean): number {
    let n = 0;
    for (const [key, slot] of [...this.slots]) {
      if (match(key, slot.tags)) {
        this.remove(key, slot);
        n++;
      }
    }
    return n;
  }

  private remove(key: string, slot: Slot) {
    this.slots.delete(key);
    this.bytes -= slot.size;
  }
}

/**
 * Loads a value at most once per key while it stays in `lru`, for immutable values (a model
 * version, say) kept per isolate. The entry is the load's promise, so concurrent callers share
 * one load; a failed load is removed, never kept. `size` counts against the byte bound from the
 * start; `sizeOf`, when given, corrects it once the value is known, and an entry that turns out
 * larger than the whole bound is then dropped. Entries do not expire; they are only evicted.
 */
export function loadOnce<T>(lru: Lru, key: string, size: number, load: () => Promise<T>, sizeOf?: (value: T) => number): Promise<T> {
  const hit = lru.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const value = load();
  if (!lru.set(key, value, { ttlSeconds: Number.POSITIVE_INFINITY, size })) return value;
  value.then(
    (v) => {
      const actual = sizeOf?.(v);
      if (actual !== undefined && actual !== size && lru.peek(key) === value)
        lru.set(key, value, { ttlSeconds: Number.POSITIVE_INFINITY, size: actual });
    },
    () => {
      if (lru.peek(key) === value) lru.delete(key);
    },
  );
  return value;
}

/**
 * The memory tier: one `Lru` per namespace, in module scope, so it lives as long as the isolate
 * and no longer. Each isolate has its own, which is why only immutable values are kept here
 * (see src/cache/namespaces.ts): a clear reaches this isolate's copy at once and other isolates'
 * copies only when their TTL runs out.
 */
export class MemoryTier implements CacheTier {
  readonly name = 'memory' as const;
  constructor(private readonly lru: Lru) {}

  async get(key: string) {
    return this.lru.get(key);
  }

  async put(key: string, value: unknown, entry: { ttlSeconds: number; tags: readonly string[]; size: number }) {
    this.lru.set(key, value, entry);
  }

  async delete(key: string) {
    return this.lru.delete(key);
  }

  async deletePrefix(prefix: string) {
    return this.lru.deleteWhere((k) => k.startsWith(prefix));
  }

  async deleteTag(tag: string) {
    return this.lru.deleteWhere((_k, tags) => tags.includes(tag));
  }
}
