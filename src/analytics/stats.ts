/** Pure statistics behind trends and anomalies; no I/O, so unit tests call them directly. */

/** Change against the previous period; the percentage is null when there is nothing to compare with. */
export function trend(current: number, previous: number) {
  return {
    count: current,
    previous,
    change: current - previous,
    change_pct: previous === 0 ? null : Math.round(((current - previous) / previous) * 1000) / 10,
  };
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation from the median (unscaled). */
export function mad(values: number[], med = median(values)): number {
  return median(values.map((v) => Math.abs(v - med)));
}

/*
 * The modified z-score of Iglewicz and Hoaglin (1993): z = 0.6745 (x − median) / MAD, with
 * |z| > 3.5 as the usual outlier threshold. Median and MAD are not dragged by the outlier itself,
 * which a mean and standard deviation are. When more than half the days share one value, MAD is
 * 0; then the mean absolute deviation stands in, z = (x − median) / (1.253314 · MeanAD), the
 * fallback used by IBM's implementation of the same score. A flat series has no outlier.
 */
export const Z_THRESHOLD = 3.5;
/** A day must also be this many events away from the median: one stray event on a quiet day is noise. */
export const MIN_DEVIATION = 5;

export type Robust = { median: number; mad: number; mean_abs_dev: number; scale: 'mad' | 'mean_abs_dev' | null };

export function robustScale(values: number[]): Robust {
  const med = median(values);
  const m = mad(values, med);
  const meanAd = values.length ? values.reduce((s, v) => s + Math.abs(v - med), 0) / values.length : 0;
  return { median: med, mad: m, mean_abs_dev: meanAd, scale: m > 0 ? 'mad' : meanAd > 0 ? 'mean_abs_dev' : null };
}

export function robustZ(x: number, r: Robust): number | null {
  if (r.scale === 'mad') return (0.6745 * (x - r.median)) / r.mad;
  if (r.scale === 'mean_abs_dev') return (x - r.median) / (1.253314 * r.mean_abs_dev);
  return null;
}

export type Outlier = { index: number; value: number; z: number; direction: 'spike' | 'drop' };

/**
 * The points of a series whose robust z-score passes the threshold. `completeUpTo` is the
 * number of leading points that are whole periods: a drop is only reported on those, since a
 * day still in progress is always "low".
 */
export function outliers(values: number[], completeUpTo = values.length): { robust: Robust; outliers: Outlier[] } {
  const robust = robustScale(values);
  const found: Outlier[] = [];
  values.forEach((value, index) => {
    const z = robustZ(value, robust);
    if (z === null || Math.abs(z) <= Z_THRESHOLD || Math.abs(value - robust.median) < MIN_DEVIATION) return;
    if (z < 0 && index >= completeUpTo) return;
    found.push({ index, value, z: round(z), direction: z > 0 ? 'spike' : 'drop' });
  });
  return { robust, outliers: found };
}

export const round = (x: number, places = 3) => Math.round(x * 10 ** places) / 10 ** places;
