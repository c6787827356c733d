import { describe, expect, it } from 'vitest';
import { buildMatrix, type InteractionRow } from '../../src/recommendations/algorithms/matrix';
import { trainItemCf } from '../../src/recommendations/algorithms/neighbours';
import { artefactCacheSize, cachedArtefact, MAX_CACHED_CHARS } from '../../src/recommendations/artefact-cache';
import { popularityNeeded, recommend, type Artefact } from '../../src/recommendations/engine';
import { seededRandom } from '../../src/lib/random';

// Module state is shared by the tests of this file: each test uses its own model ids.
let nextModel = 1_000_000;
const keyFor = (version = 1) => ({ modelId: nextModel++, version, createdAt: 1, trainedAt: 2 });
const artefact = (n: number): Artefact => ({ kind: 'item_based_cf', items: [`i${n}`], neighbours: [[]] });

function counting(value: Artefact, chars = 10) {
  const loader = {
    calls: 0,
    load: async () => {
      loader.calls++;
      return { artefact: value, chars };
    },
  };
  return loader;
}

describe('artefact cache', () => {
  it('parses a version once, even for concurrent requests, and serves it afterwards', async () => {
    const key = keyFor();
    const loader = counting(artefact(1));
    const results = await Promise.all(Array.from({ length: 5 }, () => cachedArtefact(key, 10, loader.load)));
    expect(loader.calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(await cachedArtefact(key, 10, loader.load)).toBe(results[0]);
    expect(loader.calls).toBe(1);
  });

  it('drops a failed load, so the next request tries again', async () => {
    const key = keyFor();
    let calls = 0;
    const failing = async (): Promise<{ artefact: Artefact; chars: number }> => {
      calls++;
      throw new Error('D1 unavailable');
    };
    await expect(Promise.all([cachedArtefact(key, 10, failing), cachedArtefact(key, 10, failing)])).rejects.toThrow('D1 unavailable');
    expect(calls).toBe(1);
    const loader = counting(artefact(2));
    expect(await cachedArtefact(key, 10, loader.load)).toEqual(artefact(2));
    expect(loader.calls).toBe(1);
  });

  it('keys by version and timestamps: a retrained or recreated model is loaded anew; older versions are dropped', async () => {
    const v1 = keyFor(1);
    await cachedArtefact(v1, 10, counting(artefact(1)).load);
    const v2 = { ...v1, version: 2 };
    const loader = counting(artefact(2));
    expect(await cachedArtefact(v2, 10, loader.load)).toEqual(artefact(2));
    // Same id and version, other training time (e.g. a restored database): not the cached value.
    expect(await cachedArtefact({ ...v2, trainedAt: 99 }, 10, counting(artefact(3)).load)).toEqual(artefact(3));
    const again = counting(artefact(4));
    expect(await cachedArtefact(v1, 10, again.load)).toEqual(artefact(4));
    expect(again.calls).toBe(1);
  });

  it('stays within its character budget, evicting the least recently used; never keeps an artefact over budget', async () => {
    const third = Math.floor(MAX_CACHED_CHARS / 3);
    const [a, b, c, d] = [keyFor(), keyFor(), keyFor(), keyFor()];
    for (const k of [a, b, c]) await cachedArtefact(k, third, counting(artefact(0), third).load);
    await cachedArtefact(a, third, counting(artefact(0), third).load); // a is now the most recent
    await cachedArtefact(d, third, counting(artefact(0), third).load); // evicts b
    expect(artefactCacheSize().chars).toBeLessThanOrEqual(MAX_CACHED_CHARS);
    const reload = (k: typeof a) => {
      const l = counting(artefact(0), third);
      return cachedArtefact(k, third, l.load).then(() => l.calls);
    };
    expect(await reload(a)).toBe(0);
    expect(await reload(b)).toBe(1);

    // Announced too large: loaded for this request only. Announced small but larger once read: dropped.
    const huge = keyFor();
    const big = counting(artefact(5), MAX_CACHED_CHARS + 1);
    await cachedArtefact(huge, MAX_CACHED_CHARS + 1, big.load);
    await cachedArtefact(huge, MAX_CACHED_CHARS + 1, big.load);
    expect(big.calls).toBe(2);
    const liar = keyFor();
    const lied = counting(artefact(6), MAX_CACHED_CHARS + 1);
    await cachedArtefact(liar, 10, lied.load);
    await cachedArtefact(liar, 10, lied.load);
    expect(lied.calls).toBe(2);
    expect(artefactCacheSize().chars).toBeLessThanOrEqual(MAX_CACHED_CHARS);
  });
});

describe('popularityNeeded', () => {
  it('reading only that many popular items never changes a recommendation (random cases)', () => {
    const random = seededRandom(5);
    const rows: InteractionRow[] = Array.from({ length: 600 }, () => ({
      userKey: `u${Math.floor(random() * 40)}`,
      itemKey: `i${Math.floor(random() * random() * 120)}`,
      weight: 1 + Math.floor(random() * 5),
      type: 'view',
      rating: null,
    }));
    const cf = trainItemCf(buildMatrix(rows), { neighbors: 5, min_similarity: 0 });
    const artefacts: Artefact[] = [
      cf,
      { kind: 'popularity' },
      {
        kind: 'hybrid',
        weights: { item_based_cf: 0.5, popularity: 0.5 },
        components: { item_based_cf: cf, popularity: { kind: 'popularity' } },
      },
    ];
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.itemKey, (totals.get(r.itemKey) ?? 0) + r.weight);
    const full = new Map([...totals].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)));
    for (let trial = 0; trial < 200; trial++) {
      const a = artefacts[trial % artefacts.length]!;
      const n = 1 + Math.floor(random() * 30);
      const profile = new Map(
        Array.from({ length: Math.floor(random() * 40) }, () => [`i${Math.floor(random() * 60)}`, random() * 2] as [string, number]),
      );
      const exclude = random() < 0.7 ? new Set(profile.keys()) : new Set<string>();
      const ctx = { userKey: null, profile, exclude, popularity: full, freshItems: new Map(), preferred: null };
      const depth = popularityNeeded(a, n, exclude.size, profile.size);
      const truncated = { ...ctx, popularity: new Map([...full].slice(0, depth)) };
      expect(recommend(a, {}, truncated, n), `trial ${trial}`).toEqual(recommend(a, {}, ctx, n));
    }
  });
});
