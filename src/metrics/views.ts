import { bucketQuantile } from './buckets';
import { deriveMetrics } from './derived';
import { labelKey, SUMMARY_WINDOW_MS, type Family, type SeriesTotal, type SeriesWindow } from './model';
import { sketchQuantile, type Sketch } from './sketch';
import { allFamilies, allTotals, allWindows } from './queries';

/**
 * Percentiles: histograms and timers by interpolation inside their buckets (as Prometheus'
 * histogram_quantile does, so within one bucket's width), summaries from their mergeable sketch
 * (within 1 % of the value at that rank); counters and gauges have none.
 */
export function percentiles(f: Family | undefined, w: Pick<SeriesWindow, 'counts' | 'sketch' | 'min' | 'max'>) {
  const q = (p: number): number | null => {
    if (!f) return null;
    if ((f.type === 'histogram' || f.type === 'timer') && f.buckets && w.counts) {
      const bounds = f.buckets;
      return bucketQuantile(bounds, w.counts, p, w.min ?? Math.min(0, bounds[0] ?? 0), w.max ?? bounds[bounds.length - 1] ?? 0);
    }
    if (f.type === 'summary' && w.sketch) return sketchQuantile(w.sketch, p);
    return null;
  };
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

/** One series over a window, as the JSON API shows it. */
export function windowView(f: Family | undefined, w: SeriesWindow, seconds: number) {
  return {
    labels: w.labels,
    count: w.count,
    sum: w.sum,
    min: w.min,
    max: w.max,
    last: w.last,
    last_at: w.lastAt === null ? null : new Date(w.lastAt).toISOString(),
    // Counters: increase per second; other types: observations per second.
    rate_per_second: (f?.type === 'counter' ? w.sum : w.count) / seconds,
    ...percentiles(f, w),
  };
}

/** One series' all-time state; histogram percentiles here span all time (no min/max kept for it). */
export function totalView(f: Family, t: SeriesTotal, recent?: Sketch) {
  return {
    labels: t.labels,
    count: t.count,
    sum: t.sum,
    ...(f.type === 'gauge' ? { value: t.value } : {}),
    ...(f.type === 'counter' ? { value: t.sum } : {}),
    ...(t.counts ? { bucket_counts: t.counts } : {}),
    ...percentiles(f, { counts: t.counts, sketch: recent ?? null, min: null, max: null }),
    updated_at: new Date(t.updatedAt).toISOString(),
  };
}

/**
 * Everything `/metrics` and the JSON export show: stored families and their all-time series,
 * the derived families from D1, and the recent sketches of summaries (quantiles over the last
 * SUMMARY_WINDOW_MS). Reads the four shards and D1 at once.
 */
export async function snapshot(env: Env, now = Date.now()) {
  const [families, totals, windows, derived] = await Promise.all([
    allFamilies(env),
    allTotals(env),
    allWindows(env, now - SUMMARY_WINDOW_MS, now + 1),
    deriveMetrics(env.DB, now),
  ]);
  const summaries = new Set(families.filter((f) => f.type === 'summary').map((f) => f.name));
  const recent = new Map<string, Sketch>();
  for (const w of windows) if (summaries.has(w.family) && w.sketch) recent.set(`${w.family}\n${labelKey(w.labels)}`, w.sketch);
  return { families: [...families, ...derived.families], totals: [...totals, ...derived.totals], recent, derived };
}
