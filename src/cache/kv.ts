import type { CacheTier } from './tier';

/*
 * Workers KV layout:
 *   c:<namespace>:<key>        the entry (JSON), with its own expiration
 *   t:<tag>|<namespace>:<key>  one empty index record per tag of an entry, same expiration
 *
 * KV is eventually consistent: a location that read a key keeps serving that read from its
 * local read cache for about 60 s, so a write or delete made in one location may be seen
 * elsewhere only a minute later, and `list()` lags the same way. Tag records
 * are separate keys rather than one tag → keys record because KV has no compare-and-set: two
 * isolates appending to one record would lose each other's writes. The cost is one extra write
 * per tag per entry, and invalidating a tag lists `t:<tag>|` (1,000 keys per call) and deletes
 * one key at a time — the binding has no bulk delete.
 */
const ENTRY = 'c:';
const tagPrefix = (tag: string) => `t:${tag}|`;
// KV refuses expirations shorter than a minute.
const MIN_TTL_SECONDS = 60;

export class KvTier implements CacheTier {
  readonly name = 'kv' as const;
  constructor(private readonly kv: KVNamespace) {}

  async get(key: string) {
    return (await this.kv.get(ENTRY + key, 'json')) ?? undefined;
  }

  async put(key: string, value: unknown, entry: { ttlSeconds: number; tags: readonly string[] }) {
    const expirationTtl = Math.max(MIN_TTL_SECONDS, entry.ttlSeconds);
    await Promise.all([
      this.kv.put(ENTRY + key, JSON.stringify(value), { expirationTtl }),
      ...entry.tags.map((t) => this.kv.put(tagPrefix(t) + key, '', { expirationTtl })),
    ]);
  }

  async delete(key: string) {
    const existed = (await this.kv.get(ENTRY + key)) !== null;
    await this.kv.delete(ENTRY + key);
    return existed ? 1 : 0;
  }

  async deletePrefix(prefix: string) {
    let n = 0;
    for await (const name of this.names(ENTRY + prefix)) {
      await this.kv.delete(name);
      n++;
    }
    return n;
  }

  async deleteTag(tag: string) {
    let n = 0;
    const index = tagPrefix(tag);
    for await (const name of this.names(index)) {
      const entry = ENTRY + name.slice(index.length);
      if ((await this.kv.get(entry)) !== null) n++;
      await Promise.all([this.kv.delete(entry), this.kv.delete(name)]);
    }
    return n;
  }

  private async *names(prefix: string) {
    let cursor: string | undefined;
    do {
      const page = await this.kv.list(cursor ? { prefix, cursor } : { prefix });
      for (const k of page.keys) yield k.name;
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }
}
