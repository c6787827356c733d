import type { CacheTier } from './tier';

/*
 * The Cache API (`caches.default`): the cache of the Cloudflare data centre that runs the
 * request, shared by every isolate there, free to read and write, and not replicated anywhere
 * else. Entries live until their `Cache-Control: max-age` runs out or the data centre evicts
 * them. Two limits shape how it is used here:
 * - it cannot be listed, so a clear by prefix or tag cannot reach it: entries are kept short
 *   (minutes) and only for public responses that are the same for every caller;
 * - `cache.delete` removes the entry in this data centre only (a global purge is a zone API call
 *   needing an account token, which this Worker does not hold).
 * On *.workers.dev hostnames and outside workerd (the Node OpenAPI test) the Cache API does
 * nothing or does not exist; the tier then behaves as always empty.
 */
const ORIGIN = 'https://cache.dwc.internal/';

const cacheUrl = (key: string) => ORIGIN + encodeURIComponent(key);
const edgeCache = (): Cache | null => (typeof caches === 'undefined' ? null : caches.default);

export class EdgeTier implements CacheTier {
  readonly name = 'edge' as const;

  async get(key: string) {
    const hit = await edgeCache()?.match(cacheUrl(key));
    return hit ? ((await hit.json()) as unknown) : undefined;
  }

  async put(key: string, value: unknown, entry: { ttlSeconds: number }) {
    const res = new Response(JSON.stringify(value), {
      headers: { 'content-type': 'application/json', 'cache-control': `max-age=${entry.ttlSeconds}` },
    });
    await edgeCache()?.put(cacheUrl(key), res);
  }

  async delete(key: string) {
    return (await edgeCache()?.delete(cacheUrl(key))) ? 1 : 0;
  }

  async deletePrefix() {
    return null;
  }

  async deleteTag() {
    return null;
  }
}
