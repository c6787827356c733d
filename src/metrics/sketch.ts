/**
 * A mergeable quantile sketch for summaries, after DDSketch (Masson, Rim, Lee, VLDB 2019):
 * values fall into logarithmic buckets whose bounds grow by γ = (1 + α) / (1 − α), so any
 * quantile it returns is within a relative error α of a value at that rank. Two sketches merge by
 * adding bucket counts, which is what lets summaries be kept per minute, downsampled to hours and
 * combined across shards without keeping the samples. α = 1 %: between 1e-9 and 1e12 in absolute
 * value that is at most about 2,400 buckets per sign, in practice far fewer (one decade is 116).
 */
export type Sketch = {
  /** Bucket index → count, for positive values. */
  p: Record<string, number>;
  /** Bucket index → count, for negative values (by absolute value). */
  n: Record<string, number>;
  /** Values whose absolute value is below MIN_MAGNITUDE. */
  z: number;
};

export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
const MIN_MAGNITUDE = 1e-9;

export const emptySketch = (): Sketch => ({ p: {}, n: {}, z: 0 });

const indexOf = (magnitude: number) => Math.ceil(Math.log(magnitude) / LOG_GAMMA);
/** The value a bucket stands for: its bounds' point of least relative error. */
const bucketValue = (index: number) => (2 * GAMMA ** index) / (GAMMA + 1);

export function addToSketch(s: Sketch, value: number, count = 1): Sketch {
  const magnitude = Math.abs(value);
  if (magnitude < MIN_MAGNITUDE) s.z += count;
  else {
    const store = value > 0 ? s.p : s.n;
    const k = String(indexOf(magnitude));
    store[k] = (store[k] ?? 0) + count;
  }
  return s;
}

/** Adds `from` into `into` (mutating it) and returns it. */
export function mergeSketch(into: Sketch, from: Sketch): Sketch {
  for (const [k, c] of Object.entries(from.p)) into.p[k] = (into.p[k] ?? 0) + c;
  for (const [k, c] of Object.entries(from.n)) into.n[k] = (into.n[k] ?? 0) + c;
  into.z += from.z;
  return into;
}

export const sketchCount = (s: Sketch) =>
  s.z + Object.values(s.p).reduce((a, b) => a + b, 0) + Object.values(s.n).reduce((a, b) => a + b, 0);

/**
 * The q-quantile (0 ≤ q ≤ 1): the value of rank ⌊q × (n − 1)⌋ in ascending order, to within α.
 * Null for an empty sketch.
 */
export function sketchQuantile(s: Sketch, q: number): number | null {
  const total = sketchCount(s);
  if (total === 0) return null;
  const rank = Math.floor(q * (total - 1));
  // Ascending: the most negative values (largest magnitude in `n`) first, then zeros, then `p`.
  const neg = Object.entries(s.n)
    .map(([k, c]) => [Number(k), c] as const)
    .sort((a, b) => b[0] - a[0]);
  const pos = Object.entries(s.p)
    .map(([k, c]) => [Number(k), c] as const)
    .sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [k, c] of neg) {
    seen += c;
    if (seen > rank) return -bucketValue(k);
  }
  seen += s.z;
  if (seen > rank) return 0;
  for (const [k, c] of pos) {
    seen += c;
    if (seen > rank) return bucketValue(k);
  }
  return bucketValue(pos[pos.length - 1]![0]);
}
