/*
 * Turns row objects into numeric matrices, and records how, so predictions are encoded exactly
 * as training was. Every statistic (imputation fill values, categories, scaling) is learned
 * from the training part of the split only, so nothing of the held-out rows leaks into the
 * model or its metrics.
 */

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

/** Bad training input: answered as 400, nothing stored. */
export class TrainingError extends Error {
  override name = 'TrainingError';
}

export const MAX_FEATURES = 100;
export const MAX_CATEGORIES = 50;
export const MAX_CLASSES = 100;

export type FeatureSpec =
  | { name: string; kind: 'numeric'; fill: number }
  | { name: string; kind: 'categorical'; categories: string[]; fill: string };

export type Encoding = {
  features: FeatureSpec[];
  /** z-score per encoded column (distance- and gradient-based algorithms only). */
  scale: { mean: number[]; std: number[] } | null;
  /** classification: the original label of each class index. */
  classes: (string | number | boolean)[] | null;
};

const isMissing = (v: Cell | undefined): v is null | undefined =>
  v === null || v === undefined || (typeof v === 'string' && v.trim() === '');

function asNumber(v: Cell): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** Feature column names: every key seen in the rows except the target, in first-seen order. */
export function featureColumns(rows: readonly Row[], target: string | null): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (k !== target) seen.add(k);
  const cols = [...seen];
  if (cols.length === 0) throw new TrainingError('training_data has no feature columns besides the target');
  if (cols.length > MAX_FEATURES)
    throw new TrainingError(`training_data has ${cols.length} feature columns; at most ${MAX_FEATURES} are allowed`);
  return cols;
}

/**
 * Learns each feature's encoding from the training rows: a column is numeric when every present
 * value (in all rows) is a number, boolean or numeric text; otherwise it is categorical and
 * one-hot encoded. Missing values (null, absent, empty text) are filled with the training mean
 * (numeric) or the training mode (categorical).
 */
export function learnFeatures(rows: readonly Row[], trainIdx: readonly number[], columns: readonly string[]): FeatureSpec[] {
  return columns.map((name) => {
    const numeric = rows.every((r) => isMissing(r[name]) || asNumber(r[name]!) !== null);
    const present = trainIdx.map((i) => rows[i]![name]).filter((v): v is Cell & {} => !isMissing(v));
    if (numeric) {
      const nums = present.map((v) => asNumber(v)!);
      return { name, kind: 'numeric', fill: nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : 0 } as const;
    }
    const counts = new Map<string, number>();
    for (const v of present) counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
    if (counts.size > MAX_CATEGORIES)
      throw new TrainingError(
        `column "${name}" has ${counts.size} distinct text values; one-hot encoding allows at most ${MAX_CATEGORIES}`,
      );
    const categories = [...counts.keys()].sort();
    let fill = categories[0] ?? '';
    for (const c of categories) if ((counts.get(c) ?? 0) > (counts.get(fill) ?? 0)) fill = c;
    return { name, kind: 'categorical', categories, fill } as const;
  });
}

/** Encodes one row; unknown categories become all zeros, non-numeric text in a numeric column the fill. */
export function encodeRow(row: Row, features: readonly FeatureSpec[]): number[] {
  const out: number[] = [];
  for (const f of features) {
    const v = row[f.name];
    if (f.kind === 'numeric') out.push(isMissing(v) ? f.fill : (asNumber(v) ?? f.fill));
    else {
      const s = isMissing(v) ? f.fill : String(v);
      for (const c of f.categories) out.push(c === s ? 1 : 0);
    }
  }
  return out;
}

export function learnScale(x: readonly number[][]): { mean: number[]; std: number[] } {
  const width = x[0]?.length ?? 0;
  const mean = Array.from({ length: width }, (_, j) => x.reduce((a, r) => a + r[j]!, 0) / x.length);
  const std = mean.map((m, j) => {
    const sd = Math.sqrt(x.reduce((a, r) => a + (r[j]! - m) ** 2, 0) / x.length);
    return sd > 0 ? sd : 1;
  });
  return { mean, std };
}

export const applyScale = (x: number[][], scale: Encoding['scale']) =>
  scale ? x.map((r) => r.map((v, j) => (v - scale.mean[j]!) / scale.std[j]!)) : x;

/** Encodes input rows for prediction with a version's stored encoding. */
export const encodeRows = (rows: readonly Row[], enc: Encoding) =>
  applyScale(
    rows.map((r) => encodeRow(r, enc.features)),
    enc.scale,
  );

/** Class labels for classification: each distinct target value, ordered for stable indices. */
export function classTargets(rows: readonly Row[], target: string): { labels: number[]; classes: (string | number | boolean)[] } {
  const byKey = new Map<string, string | number | boolean>();
  const keys = rows.map((r, i) => {
    const v = r[target];
    if (isMissing(v)) throw new TrainingError(`row ${i} has no value for target column "${target}"`);
    const key = `${typeof v}:${String(v)}`;
    byKey.set(key, v);
    return key;
  });
  if (byKey.size > MAX_CLASSES)
    throw new TrainingError(`target column "${target}" has ${byKey.size} classes; at most ${MAX_CLASSES} are allowed`);
  const ordered = [...byKey.keys()].sort();
  const index = new Map(ordered.map((k, i) => [k, i]));
  return { labels: keys.map((k) => index.get(k)!), classes: ordered.map((k) => byKey.get(k)!) };
}

/** Regression targets must be numbers; text that happens to hold digits is refused, not guessed. */
export function numericTargets(rows: readonly Row[], target: string): number[] {
  return rows.map((r, i) => {
    const v = r[target];
    if (isMissing(v)) throw new TrainingError(`row ${i} has no value for target column "${target}"`);
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TrainingError(`regression needs a numeric target: row ${i} has ${JSON.stringify(v)} in "${target}"`);
    return v;
  });
}
