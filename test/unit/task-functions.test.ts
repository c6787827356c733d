import { describe, expect, it } from 'vitest';
import { aggregate, DataError, parseCsv, tableFromJson } from '../../src/tasks/aggregate';
import { retryDelaySeconds } from '../../src/tasks/backoff';

describe('data_processing aggregation', () => {
  it('parses RFC 4180 CSV: quotes, embedded delimiters and newlines, CRLF', () => {
    const t = parseCsv('name,notes,amount\r\n"Smith, J","said ""hi""\nthen left",3\r\nLee,,4.5\r\n');
    expect(t.columns).toEqual(['name', 'notes', 'amount']);
    expect(t.rows).toEqual([
      { name: 'Smith, J', notes: 'said "hi"\nthen left', amount: '3' },
      { name: 'Lee', notes: '', amount: '4.5' },
    ]);
    expect(() => parseCsv('a,b\n1\n')).toThrow(/row 2 has 1 fields/);
    expect(() => parseCsv('a,b\n"1,2\n')).toThrow(DataError);
    expect(parseCsv('a;b\n1;2', ';').rows).toEqual([{ a: '1', b: '2' }]);
  });

  it('counts, sums and averages per group, and over all rows', () => {
    const out = aggregate(parseCsv('region,product,units,price\nnorth,a,3,2.5\nsouth,a,1,2.5\nnorth,b,2,10\nnorth,a,,2.5\n'), ['region']);
    expect(out.fields).toEqual(['units', 'price']);
    expect(out.totals).toEqual({
      count: 4,
      fields: { units: { count: 3, sum: 6, mean: 2, min: 1, max: 3 }, price: { count: 4, sum: 17.5, mean: 4.375, min: 2.5, max: 10 } },
    });
    expect(out.groups.map((g) => [g.key, g.count, g.fields.units!.sum, g.fields.price!.mean])).toEqual([
      [{ region: 'north' }, 3, 5, 5],
      [{ region: 'south' }, 1, 1, 2.5],
    ]);
  });

  it('aggregates JSON rows and refuses unknown columns', () => {
    const table = tableFromJson([
      { team: 'x', score: 1 },
      { team: 'x', score: 0.2 },
      { team: 'y', score: null },
    ]);
    const out = aggregate(table, ['team'], ['score']);
    expect(out.groups[0]).toEqual({ key: { team: 'x' }, count: 2, fields: { score: { count: 2, sum: 1.2, mean: 0.6, min: 0.2, max: 1 } } });
    expect(out.groups[1]!.fields.score).toEqual({ count: 0, sum: 0, mean: null, min: null, max: null });
    expect(() => aggregate(table, ['nope'])).toThrow(/no column named "nope"/);
  });
});

describe('retry backoff', () => {
  it('grows exponentially, with jitter, never shrinking from one attempt to the next', () => {
    for (let trial = 0; trial < 200; trial++) {
      const delays = [1, 2, 3, 4, 5, 6].map((n) => retryDelaySeconds(n));
      for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
      expect(delays[5]!).toBeGreaterThan(delays[0]!);
    }
    expect(retryDelaySeconds(1, () => 0)).toBe(1);
    expect(retryDelaySeconds(1, () => 1)).toBe(2);
    expect(retryDelaySeconds(4, () => 0)).toBe(8);
    expect(retryDelaySeconds(30, () => 1)).toBe(900);
  });
});
