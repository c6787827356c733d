import { ApiError } from '../lib/errors';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

/*
 * Each named range is a whole number of buckets ending with the bucket that holds "now" (or
 * `to`), so every bucket in a series is the same length and the previous period lines up with
 * it exactly. Buckets are UTC; weeks start on Monday 00:00 UTC.
 */
export const TIME_RANGES = {
  hour: { bucketMs: 5 * MINUTE, buckets: 12 },
  day: { bucketMs: HOUR, buckets: 24 },
  week: { bucketMs: 6 * HOUR, buckets: 28 },
  month: { bucketMs: DAY, buckets: 30 },
  quarter: { bucketMs: DAY, buckets: 90 },
  year: { bucketMs: WEEK, buckets: 52 },
} as const;
export type TimeRange = keyof typeof TIME_RANGES;
export const TIME_RANGE_NAMES = Object.keys(TIME_RANGES) as [TimeRange, ...TimeRange[]];

/** The longest custom window (`from`/`to`): a year and a day, so a leap year fits. */
export const MAX_CUSTOM_MS = 366 * DAY;

export const BUCKET_LABELS: Record<number, string> = { [5 * MINUTE]: '5m', [HOUR]: '1h', [6 * HOUR]: '6h', [DAY]: '1d', [WEEK]: '1w' };

export type Window = {
  range: TimeRange | 'custom';
  start: number;
  end: number;
  bucketMs: number;
  /** The period of the same length just before `start`, for trends. */
  previousStart: number;
};

// 1970-01-01 was a Thursday: weekly buckets are shifted by four days so that they start on Monday.
const offsetFor = (bucketMs: number) => (bucketMs === WEEK ? 4 * DAY : 0);

export function bucketFloor(t: number, bucketMs: number): number {
  const off = offsetFor(bucketMs);
  return Math.floor((t - off) / bucketMs) * bucketMs + off;
}

export function bucketCeil(t: number, bucketMs: number): number {
  const floor = bucketFloor(t, bucketMs);
  return floor === t ? t : floor + bucketMs;
}

/** The bucket size for a custom window: at most ~120 buckets whatever its length. */
export function bucketForSpan(spanMs: number): number {
  if (spanMs <= 6 * HOUR) return 5 * MINUTE;
  if (spanMs <= 3 * DAY) return HOUR;
  if (spanMs <= 120 * DAY) return DAY;
  return WEEK;
}

/**
 * The window a request asks for: a named range ending now (or at `to`), or `from`…`to` (which
 * take precedence over the range). Bad windows are the caller's error (400), never clamped.
 *
 * @example resolveWindow({ range: 'day', now: Date.parse('2026-03-10T10:37:00Z') })
 *   // start 2026-03-09T11:00Z, end 2026-03-10T11:00Z, hourly buckets
 */
export function resolveWindow(q: {
  range?: TimeRange | undefined;
  from?: number | undefined;
  to?: number | undefined;
  now: number;
}): Window {
  if (q.from !== undefined) {
    const to = q.to ?? q.now;
    if (q.from >= to) throw new ApiError('bad_request', '`from` must be before `to`');
    if (to - q.from > MAX_CUSTOM_MS) throw new ApiError('bad_request', 'A window can be at most 366 days long');
    const bucketMs = bucketForSpan(to - q.from);
    const start = bucketFloor(q.from, bucketMs);
    const end = bucketCeil(to, bucketMs);
    return { range: 'custom', start, end, bucketMs, previousStart: start - (end - start) };
  }
  const range = q.range ?? 'day';
  const { bucketMs, buckets } = TIME_RANGES[range];
  const at = q.to ?? q.now;
  // The bucket holding `at` is the last one; a `to` exactly on a boundary ends the window there.
  const end = q.to !== undefined ? bucketCeil(at, bucketMs) : bucketFloor(at, bucketMs) + bucketMs;
  const start = end - buckets * bucketMs;
  return { range, start, end, bucketMs, previousStart: start - buckets * bucketMs };
}

/** Bucket start times of a window, oldest first. */
export function bucketStarts(w: Pick<Window, 'start' | 'end' | 'bucketMs'>): number[] {
  const out: number[] = [];
  for (let t = w.start; t < w.end; t += w.bucketMs) out.push(t);
  return out;
}

/** Counts keyed by bucket index (from `start`) as a full series, empty buckets filled with 0. */
export function fillSeries(w: Pick<Window, 'start' | 'end' | 'bucketMs'>, counts: Map<number, number>): { start: string; count: number }[] {
  return bucketStarts(w).map((t, i) => ({ start: new Date(t).toISOString(), count: counts.get(i) ?? 0 }));
}

export function windowView(w: Window) {
  return {
    time_range: w.range,
    from: new Date(w.start).toISOString(),
    to: new Date(w.end).toISOString(),
    bucket: BUCKET_LABELS[w.bucketMs] ?? `${w.bucketMs}ms`,
    buckets: (w.end - w.start) / w.bucketMs,
    previous: { from: new Date(w.previousStart).toISOString(), to: new Date(w.start).toISOString() },
  };
}
