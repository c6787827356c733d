import { z } from '@hono/zod-openapi';
import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { cached, tiersOf } from '../../src/cache/cache';
import { EdgeTier } from '../../src/cache/edge';
import { clearCache } from '../../src/cache/invalidate';
import { KvTier } from '../../src/cache/kv';
import { readStats } from '../../src/cache/stats';
import { unique } from '../helpers';

const Value = z.object({ n: z.number() });

async function statsOf(ns: string) {
  const s = (await readStats(env)).namespaces.find((x) => x.namespace === ns)!;
  return { hits: s.hits, misses: s.misses, tiers: Object.fromEntries(s.tiers.map((t) => [t.tier, { hits: t.hits, misses: t.misses }])) };
}

const kvNames = async (prefix: string) => (await env.CACHE.list({ prefix })).keys.map((k) => k.name).sort();

describe('KV tier', () => {
  it('stores entries with one index record per tag, and deletes by key, prefix and tag', async () => {
    const kv = new KvTier(env.CACHE);
    const p = unique('kvt');
    const entry = (tags: string[]) => ({ ttlSeconds: 120, tags, size: 1 });
    await kv.put(`${p}:a:1`, { n: 1 }, entry([`t-${p}-x`]));
    await kv.put(`${p}:a:2`, { n: 2 }, entry([`t-${p}-x`, `t-${p}-y`]));
    await kv.put(`${p}:b:1`, { n: 3 }, entry([`t-${p}-y`]));
    expect(await kv.get(`${p}:a:2`)).toEqual({ n: 2 });
    expect(await kvNames(`t:t-${p}-x|`)).toEqual([`t:t-${p}-x|${p}:a:1`, `t:t-${p}-x|${p}:a:2`]);

    expect(await kv.delete(`${p}:b:1`)).toBe(1);
    expect(await kv.delete(`${p}:b:1`)).toBe(0);
    expect(await kv.get(`${p}:b:1`)).toBeUndefined();

    // Tag y still indexes the deleted b:1; only entries that existed are counted.
    expect(await kv.deleteTag(`t-${p}-y`)).toBe(1);
    expect(await kv.get(`${p}:a:2`)).toBeUndefined();
    expect(await kv.get(`${p}:a:1`)).toEqual({ n: 1 });
    expect(await kvNames(`t:t-${p}-y|`)).toEqual([]);

    expect(await kv.deletePrefix(`${p}:a:`)).toBe(1);
    expect(await kvNames(`c:${p}:`)).toEqual([]);
  });
});

describe('Cache API tier', () => {
  it('round-trips a value, deletes it by key, and cannot enumerate', async () => {
    const edge = new EdgeTier();
    const key = unique('edge');
    expect(await edge.get(key)).toBeUndefined();
    await edge.put(key, { n: 5 }, { ttlSeconds: 60 });
    expect(await edge.get(key)).toEqual({ n: 5 });
    expect(await edge.delete(key)).toBe(1);
    expect(await edge.get(key)).toBeUndefined();
    expect(await edge.deletePrefix()).toBeNull();
    expect(await edge.deleteTag()).toBeNull();
  });
});

describe('cached()', () => {
  it('reads the tiers in order, fills faster tiers, and counts every outcome exactly', async () => {
    const key = unique('k');
    let loads = 0;
    const load = async () => ({ n: ++loads });
    const before = await statsOf('workflow');
    const scope = { env };

    expect(await cached(scope, 'workflow', key, load, { schema: Value })).toEqual({ n: 1 }); // miss, miss → load
    expect(await cached(scope, 'workflow', key, load, { schema: Value })).toEqual({ n: 1 }); // memory hit
    await tiersOf(env, 'workflow')[0]!.delete(`workflow:${key}`);
    expect(await cached(scope, 'workflow', key, load, { schema: Value })).toEqual({ n: 1 }); // memory miss, KV hit
    expect(await cached(scope, 'workflow', key, load, { schema: Value })).toEqual({ n: 1 }); // memory hit (filled from KV)
    expect(loads).toBe(1);

    const after = await statsOf('workflow');
    expect(after.hits - before.hits).toBe(3);
    expect(after.misses - before.misses).toBe(1);
    expect(after.tiers.memory!.hits - before.tiers.memory!.hits).toBe(2);
    expect(after.tiers.memory!.misses - before.tiers.memory!.misses).toBe(2);
    expect(after.tiers.kv!.hits - before.tiers.kv!.hits).toBe(1);
    expect(after.tiers.kv!.misses - before.tiers.kv!.misses).toBe(1);
  });

  it('treats a stored value of the wrong shape as a miss and reloads it', async () => {
    const key = unique('bad');
    await env.CACHE.put(`c:workflow:${key}`, JSON.stringify({ unexpected: true }), { expirationTtl: 120 });
    expect(await cached({ env }, 'workflow', key, async () => ({ n: 7 }), { schema: Value })).toEqual({ n: 7 });
    expect(await env.CACHE.get(`c:workflow:${key}`, 'json')).toEqual({ n: 7 });
  });

  it('stores only what `store` accepts, and a failed load stores nothing', async () => {
    const key = unique('neg');
    let loads = 0;
    const opts = { schema: Value, store: (v: { n: number }) => v.n < 0 };
    await cached({ env }, 'apikey', key, async () => ({ n: ++loads }), opts);
    await cached({ env }, 'apikey', key, async () => ({ n: ++loads }), opts);
    expect(loads).toBe(2);
    await expect(cached({ env }, 'apikey', `${key}x`, async () => Promise.reject(new Error('down')), opts)).rejects.toThrow('down');
    await cached({ env }, 'apikey', `${key}x`, async () => ({ n: -1 }), opts);
    expect(await cached({ env }, 'apikey', `${key}x`, async () => ({ n: 99 }), opts)).toEqual({ n: -1 });
  });
});

describe('clearCache()', () => {
  const fill = async (key: string, tags: string[]) => cached({ env }, 'workflow', key, async () => ({ n: 1 }), { schema: Value, tags });

  it('clears by key, by prefix and by tag in memory and KV, leaving the rest', async () => {
    const p = unique('clr');
    await fill(`${p}:1:1`, [`tag-${p}-1`]);
    await fill(`${p}:1:2`, [`tag-${p}-1`]);
    await fill(`${p}:2:1`, [`tag-${p}-2`]);
    await fill(`${p}:3:1`, [`tag-${p}-3`]);

    expect(await clearCache(env, { scope: 'key', namespace: 'workflow', key: `${p}:3:1` })).toEqual({ memory: 1, kv: 1, edge: 0 });
    expect(await clearCache(env, { scope: 'prefix', namespace: 'workflow', prefix: `${p}:1:` })).toEqual({ memory: 2, kv: 2, edge: 0 });
    expect(await kvNames(`c:workflow:${p}:`)).toEqual([`c:workflow:${p}:2:1`]);
    expect(await clearCache(env, { scope: 'tag', tag: `tag-${p}-2` })).toEqual({ memory: 1, kv: 1, edge: null });
    expect(await kvNames(`c:workflow:${p}:`)).toEqual([]);

    let loads = 0;
    await cached({ env }, 'workflow', `${p}:2:1`, async () => ({ n: ++loads }), { schema: Value });
    expect(loads).toBe(1);
  });

  it('clears a whole namespace, and everything', async () => {
    const p = unique('all');
    await fill(`${p}:1`, []);
    await cached({ env }, 'ai', `${p}:1`, async () => ({ n: 1 }), { schema: Value });
    const ns = await clearCache(env, { scope: 'namespace', namespace: 'workflow' });
    expect(ns.memory).toBeGreaterThanOrEqual(1);
    expect(ns.kv).toBeGreaterThanOrEqual(1);
    expect(await kvNames('c:workflow:')).toEqual([]);
    expect(await kvNames(`c:ai:${p}`)).toEqual([`c:ai:${p}:1`]);
    const all = await clearCache(env, { scope: 'all' });
    expect(all.edge).toBeNull();
    expect(await kvNames('c:')).toEqual([]);
  });
});
