/**
 * Histogram buckets: `bounds` are the finite upper bounds (ascending, Prometheus' `le`), and a
 * count array has one more slot than `bounds`, for the `+Inf` bucket. Counts are kept per bucket
 * (not cumulative) so that adding two histograms is adding their arrays.
 */

/** Prometheus client libraries' default buckets, in the unit observed (seconds for latencies). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const MAX_BUCKETS = 30;

export function bucketIndex(bounds: readonly number[], value: number): number {
  // `le` is inclusive: a value equal to a bound belongs to that bound's bucket.
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export const emptyCounts = (bounds: readonly number[]) => new Array<number>(bounds.length + 1).fill(0);

export function addCounts(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + from[i]!;
  return into;
}

/**
 * The q-quantile of a bucketed distribution, by linear interpolation inside the bucket holding
 * rank q × count, as Prometheus' `histogram_quantile` does. Two refinements use the observed
 * extremes, which we keep: the `+Inf` bucket's upper end is the largest value seen (Prometheus
 * answers the last finite bound), the first bucket starts at 0 unless a value below 0 was seen
 * (then at the smallest value), and the answer is clamped to [min, max]. Null when empty.
 */
export function bucketQuantile(bounds: readonly number[], counts: readonly number[], q: number, min: number, max: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let before = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && before + c >= rank) {
      const lower = Math.max(min, i === 0 ? Math.min(0, bounds[0] ?? 0) : bounds[i - 1]!);
      const upper = Math.min(max, i < bounds.length ? bounds[i]! : Infinity);
      const estimate = lower + (upper - lower) * ((rank - before) / c);
      return Math.min(max, Math.max(min, estimate));
    }
    before += c;
  }
  return max;
}
