import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, toPage } from '../../src/lib/pagination';

describe('cursor pagination', () => {
  it('round-trips a cursor and rejects forged ones', () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(decodeCursor(undefined)).toBeUndefined();
    for (const bad of ['', 'abc', btoa('{"id":-1}'), btoa('{"id":"1"}'), btoa('[]')])
      expect(() => decodeCursor(bad)).toThrow(/Invalid cursor/);
  });

  it('returns a next cursor only when there is another row', () => {
    const rows = [{ id: 9 }, { id: 7 }, { id: 4 }];
    expect(toPage(rows, 2, (r) => r.id)).toEqual({ items: [9, 7], next_cursor: encodeCursor(7) });
    expect(toPage(rows, 3, (r) => r.id)).toEqual({ items: [9, 7, 4], next_cursor: null });
  });
});
