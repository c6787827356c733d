import { describe, expect, it } from 'vitest';
import { bucketFloor, bucketStarts, fillSeries, resolveWindow, TIME_RANGES } from '../../src/analytics/ranges';
import { csvCells } from '../../src/analytics/report';
import { mad, median, outliers, robustScale, robustZ, trend } from '../../src/analytics/stats';
import { ApiError } from '../../src/lib/errors';

const T = (s: string) => Date.parse(s);
const iso = (ms: number) => new Date(ms).toISOString();

describe('time ranges', () => {
  it('ends each named range with the bucket holding now, in whole UTC buckets', () => {
    const now = T('2026-03-10T10:37:12Z');
    const day = resolveWindow({ range: 'day', now });
    expect([iso(day.start), iso(day.end), iso(day.previousStart)]).toEqual([
      '2026-03-09T11:00:00.000Z',
      '2026-03-10T11:00:00.000Z',
      '2026-03-08T11:00:00.000Z',
    ]);
    const hour = resolveWindow({ range: 'hour', now });
    expect([iso(hour.start), iso(hour.end)]).toEqual(['2026-03-10T09:40:00.000Z', '2026-03-10T10:40:00.000Z']);
    const year = resolveWindow({ range: 'year', now });
    // Weekly buckets start on Monday: 2026-03-09 is a Monday.
    expect(iso(year.end)).toBe('2026-03-16T00:00:00.000Z');
    expect(new Date(year.start).getUTCDay()).toBe(1);
    for (const [name, r] of Object.entries(TIME_RANGES)) {
      const w = resolveWindow({ range: name as keyof typeof TIME_RANGES, now });
      expect(bucketStarts(w)).toHaveLength(r.buckets);
      expect(w.start - w.previousStart).toBe(w.end - w.start);
    }
  });

  it('takes from/to over the range, picks the bucket by span, and refuses bad windows', () => {
    const w = resolveWindow({
      range: 'hour',
      from: T('2026-01-01T00:00:00Z'),
      to: T('2026-01-31T12:00:00Z'),
      now: T('2026-06-01T00:00:00Z'),
    });
    expect([w.range, w.bucketMs, iso(w.start), iso(w.end)]).toEqual([
      'custom',
      86_400_000,
      '2026-01-01T00:00:00.000Z',
      '2026-02-01T00:00:00.000Z',
    ]);
    expect(() => resolveWindow({ from: T('2026-02-01T00:00:00Z'), to: T('2026-01-01T00:00:00Z'), now: 0 })).toThrow(ApiError);
    expect(() => resolveWindow({ from: T('2026-01-01T00:00:00Z'), to: T('2026-01-01T00:00:00Z'), now: 0 })).toThrow(
      '`from` must be before `to`',
    );
    expect(() => resolveWindow({ from: T('2024-01-01T00:00:00Z'), to: T('2026-01-01T00:00:00Z'), now: 0 })).toThrow('366 days');
  });

  it('fills empty buckets with zero', () => {
    const w = { start: T('2026-01-01T00:00:00Z'), end: T('2026-01-01T04:00:00Z'), bucketMs: 3_600_000 };
    expect(fillSeries(w, new Map([[2, 7]])).map((p) => p.count)).toEqual([0, 0, 7, 0]);
    expect(bucketFloor(T('2026-01-01T03:59:59Z'), 3_600_000)).toBe(T('2026-01-01T03:00:00Z'));
  });
});

describe('statistics', () => {
  it('computes trends with a null percentage when the previous period is empty', () => {
    expect(trend(81, 34)).toEqual({ count: 81, previous: 34, change: 47, change_pct: 138.2 });
    expect(trend(3, 0)).toEqual({ count: 3, previous: 0, change: 3, change_pct: null });
    expect(trend(1, 4)).toEqual({ count: 1, previous: 4, change: -3, change_pct: -75 });
  });

  it('scores with median and MAD, and falls back to the mean absolute deviation when MAD is 0', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(mad([1, 2, 3, 4, 100])).toBe(1);
    const r = robustScale([2, 2, 2, 2, 2, 12]);
    expect(r).toMatchObject({ median: 2, mad: 0, scale: 'mean_abs_dev' });
    expect(r.mean_abs_dev).toBeCloseTo(10 / 6, 3);
    expect(robustZ(12, r)).toBeCloseTo(10 / (1.253314 * (10 / 6)), 3);
    expect(robustScale([4, 4, 4]).scale).toBeNull();
  });

  it('flags a spike past 3.5 with at least 5 events of deviation, and no drop on an unfinished day', () => {
    const values = [2, 3, 2, 1, 2, 3, 2, 1, 22, 2];
    const { robust, outliers: out } = outliers(values);
    expect(robust).toMatchObject({ median: 2, mad: 0.5 });
    expect(out).toEqual([{ index: 8, value: 22, z: 26.98, direction: 'spike' }]);
    // One stray event on quiet days is far in z but not in events: not an anomaly.
    expect(outliers([0, 0, 0, 0, 0, 0, 1]).outliers).toEqual([]);
    // A drop to 0 on the last (unfinished) day is not reported; on a finished day it is.
    const drop = [20, 21, 20, 19, 20, 21, 0];
    expect(outliers(drop, 6).outliers).toEqual([]);
    expect(outliers(drop).outliers.map((o) => o.direction)).toEqual(['drop']);
  });
});

describe('csv', () => {
  it('quotes per RFC 4180 and neutralises formulas in text, not in numbers', () => {
    expect(csvCells(['=SUM(A1)', '+1', '-x', '@cmd', 'a,b', 'say "hi"', -3, null])).toBe(
      `'=SUM(A1),'+1,'-x,'@cmd,"a,b","say ""hi""",-3,\r\n`,
    );
  });
});
