import { describe, expect, it } from 'vitest';
import { loadOnce, Lru } from '../../src/cache/memory';

/** A clock the test moves by hand, so TTLs are checked without waiting. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('Lru', () => {
  it('returns what was stored until its TTL runs out, then nothing', () => {
    const c = clock();
    const lru = new Lru({ maxEntries: 10, maxBytes: 1000 }, c.now);
    lru.set('a', { v: 1 }, { ttlSeconds: 60, size: 7 });
    expect(lru.get('a')).toEqual({ v: 1 });
    c.advance(59_999);
    expect(lru.get('a')).toEqual({ v: 1 });
    c.advance(1);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(0);
    expect(lru.totalBytes).toBe(0);
  });

  it('evicts the least recently used entry when the entry bound is reached', () => {
    const lru = new Lru({ maxEntries: 3, maxBytes: 1000 });
    for (const k of ['a', 'b', 'c']) lru.set(k, k, { ttlSeconds: 60, size: 1 });
    expect(lru.get('a')).toBe('a'); // a is now the most recent; b the least
    lru.set('d', 'd', { ttlSeconds: 60, size: 1 });
    expect(lru.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => lru.get(k))).toEqual(['a', 'c', 'd']);
    expect(lru.size).toBe(3);
  });

  it('evicts from the cold end until a new entry fits the byte bound, and refuses one larger than the bound', () => {
    const lru = new Lru({ maxEntries: 100, maxBytes: 100 });
    lru.set('a', 'a', { ttlSeconds: 60, size: 40 });
    lru.set('b', 'b', { ttlSeconds: 60, size: 40 });
    lru.set('c', 'c', { ttlSeconds: 60, size: 50 });
    expect(lru.get('a')).toBeUndefined();
    expect(lru.get('b')).toBe('b');
    expect(lru.totalBytes).toBe(90);
    expect(lru.set('huge', 'x', { ttlSeconds: 60, size: 101 })).toBe(false);
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.totalBytes).toBe(90);
  });

  it('replacing a key keeps the byte count exact', () => {
    const lru = new Lru({ maxEntries: 10, maxBytes: 100 });
    lru.set('a', 1, { ttlSeconds: 60, size: 30 });
    lru.set('a', 2, { ttlSeconds: 60, size: 10 });
    expect(lru.totalBytes).toBe(10);
    expect(lru.size).toBe(1);
    expect(lru.get('a')).toBe(2);
  });

  it('deletes by key, by key predicate (prefix) and by tag', () => {
    const lru = new Lru({ maxEntries: 10, maxBytes: 1000 });
    lru.set('ns:1:1', 1, { ttlSeconds: 60, size: 1, tags: ['workflow:1'] });
    lru.set('ns:1:2', 2, { ttlSeconds: 60, size: 1, tags: ['workflow:1'] });
    lru.set('ns:12:1', 3, { ttlSeconds: 60, size: 1, tags: ['workflow:12'] });
    lru.set('other', 4, { ttlSeconds: 60, size: 1 });
    expect(lru.delete('other')).toBe(1);
    expect(lru.delete('other')).toBe(0);
    expect(lru.deleteWhere((k) => k.startsWith('ns:1:'))).toBe(2);
    expect(lru.get('ns:12:1')).toBe(3);
    expect(lru.deleteWhere((_k, tags) => tags.includes('workflow:12'))).toBe(1);
    expect(lru.size).toBe(0);
    expect(lru.totalBytes).toBe(0);
  });

  it('does not store an entry with no time to live', () => {
    const lru = new Lru({ maxEntries: 10, maxBytes: 100 });
    expect(lru.set('a', 1, { ttlSeconds: 0, size: 1 })).toBe(false);
    expect(lru.get('a')).toBeUndefined();
  });
});

describe('loadOnce', () => {
  it('shares one load between concurrent callers, forgets a failed one, and corrects the size once loaded', async () => {
    const lru = new Lru({ maxEntries: 10, maxBytes: 100 });
    let calls = 0;
    const load = async () => {
      calls++;
      return 'v';
    };
    expect(await Promise.all([loadOnce(lru, 'a', 5, load), loadOnce(lru, 'a', 5, load)])).toEqual(['v', 'v']);
    expect(calls).toBe(1);

    const failing = () => Promise.reject(new Error('down'));
    await expect(loadOnce(lru, 'b', 5, failing)).rejects.toThrow('down');
    expect(lru.peek('b')).toBeUndefined();

    await loadOnce(
      lru,
      'c',
      5,
      async () => 'ccc',
      (v) => v.length * 10,
    );
    expect(lru.totalBytes).toBe(5 + 30);
    await loadOnce(
      lru,
      'd',
      5,
      async () => 'too big',
      () => 101,
    );
    expect(lru.peek('d')).toBeUndefined();
    expect(lru.totalBytes).toBe(35);
  });
});
