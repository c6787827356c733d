/** Small, exact statistics over measured samples. Nothing here estimates or fills in a value. */

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank on the sorted samples: the reported p99 is a latency that was observed.
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: readonly number[]) => {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A figure measured once per repetition: its median and the spread (min..max) across them. */
export type Figure = { median: number; min: number; max: number; samples: number[]; unit: string };

export function figure(samples: number[], unit: string): Figure {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples, unit };
}

/** Spread as a percentage of the median: (max - min) / median. */
export const spreadPct = (f: Figure) => (f.median === 0 ? 0 : ((f.max - f.min) / f.median) * 100);

export function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return n;
  const p = 10 ** digits;
  return Math.round(n * p) / p;
}
