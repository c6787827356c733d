import { TrainingError } from './preprocess';

/*
 * CART (classification and regression trees) grown from presorted columns.
 *
 * Every feature keeps its node's rows as an index segment sorted by that feature's value; all
 * features' segments of a node cover the same rows at the same offsets. A split search sweeps
 * each segment once, updating the left side's class counts (or target sum) row by row, and scores
 * a split point wherever the value changes; the chosen split is then applied by a stable
 * partition of every segment, so the children stay sorted without sorting again. A node costs
 * O(features × rows) and a tree O(features × rows × depth) after one O(features × n log n) sort,
 * where ml-cart re-scans the node's rows for every candidate threshold (quadratic in rows).
 *
 * Scores are weighted impurity decreases (weights are bootstrap counts in a forest, 1 otherwise):
 * for Gini, n·G(parent) − nL·G(L) − nR·G(R) = ΣcL²/nL + ΣcR²/nR − Σc²/n; for variance, the
 * squared-error reduction sL²/nL + sR²/nR − s²/n. Ties keep the first split found (lowest feature
 * index, then lowest threshold), so a tree is fully determined by its data and options.
 */

/** Training data laid out for the sweep: one contiguous column per feature, sorted once. */
export type TreeData = {
  n: number;
  p: number;
  /** Column-major: feature f of row i is x[f * n + i]. */
  x: Float64Array;
  /** Class index (classification) or target value (regression). */
  y: Float64Array;
  /** 0 for regression. */
  classes: number;
  /** Per feature, the row indices in ascending order of that feature's value. */
  order: Int32Array[];
};

export function treeData(rows: readonly number[][], y: readonly number[], classes: number): TreeData {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  const x = new Float64Array(n * p);
  rows.forEach((row, i) => {
    row.forEach((v, f) => {
      x[f * n + i] = v;
    });
  });
  const order = Array.from({ length: p }, (_, f) => {
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    return idx.sort((a, b) => x[f * n + a]! - x[f * n + b]! || a - b);
  });
  return { n, p, x, y: Float64Array.from(y), classes, order };
}

/**
 * A fitted tree as flat arrays in pre-order (compact in JSON, no nesting to walk when parsing).
 * Node i is a leaf when `f[i]` is -1; then `t[i]` is the offset of its value(s) in `v`.
 * Otherwise rows with x[f[i]] <= t[i] go to the left child, which is node i + 1, and the others
 * to the right child, node `r[i]`.
 */
export type FlatTree = { f: number[]; t: number[]; r: number[]; v: number[] };

/** What a leaf stores: class counts (a single tree's probabilities), the majority class (a forest's vote), or the mean target. */
export type LeafKind = 'distribution' | 'class' | 'mean';

/** Units of work (rows × features swept or partitioned) a fit may still spend; see cost.ts. */
export type WorkBudget = { left: number };

/** A fit that used up its work budget; inline trains move to the background on it. */
export class BudgetExceeded extends TrainingError {
  constructor() {
    super(
      'the fit ran out of its CPU budget (see the README, "Background training and CPU limits"); lower n_estimators, max_depth or the number of rows',
    );
  }
}

export type GrowOptions = {
  maxDepth: number;
  minSamplesSplit: number;
  /** Candidate features (indices into the data), ascending. */
  features: readonly number[];
  /** Bootstrap counts per row; rows with 0 are out of the bag. Default: every row once. */
  weights?: Int32Array | undefined;
  leaf: LeafKind;
  budget: WorkBudget;
};

export type Split = { feature: number; threshold: number; decrease: number /** Rows (segment entries) going left. */; leftRows: number };

/**
 * Node statistics: total weight, and class weights (classification) or [sum] (regression).
 * Regression also keeps the mean, and the squared error around it: the sweep works on centred
 * targets, because s²/n of raw targets far from zero loses the decrease to rounding.
 */
type Stats = { weight: number; sums: Float64Array; mean: number; sse: number };

class Grower {
  readonly m: number;
  readonly idx: Int32Array;
  readonly w: Int32Array;
  private readonly tmp: Int32Array;
  private readonly goLeft: Uint8Array;
  private readonly lc: Float64Array;

  constructor(
    readonly d: TreeData,
    readonly o: GrowOptions,
  ) {
    this.w = o.weights ?? new Int32Array(d.n).fill(1);
    let m = 0;
    for (let i = 0; i < d.n; i++) if (this.w[i]! > 0) m++;
    this.m = m;
    this.idx = new Int32Array(o.features.length * m);
    o.features.forEach((f, j) => {
      let k = j * m;
      for (const r of d.order[f]!) if (this.w[r]! > 0) this.idx[k++] = r;
    });
    o.budget.left -= o.features.length * d.n;
    this.tmp = new Int32Array(m);
    this.goLeft = new Uint8Array(d.n);
    this.lc = new Float64Array(Math.max(d.classes, 1));
  }

  stats(start: number, end: number): Stats {
    const { y, classes } = this.d;
    const sums = new Float64Array(Math.max(classes, 1));
    let weight = 0;
    for (let i = start; i < end; i++) {
      const r = this.idx[i]!;
      const wi = this.w[r]!;
      weight += wi;
      if (classes) sums[y[r]!]! += wi;
      else sums[0]! += wi * y[r]!;
    }
    // A node's bookkeeping (these scans, allocations, pushes) is charged as rows + 50 units.
    this.o.budget.left -= end - start + 50;
    const mean = classes || !weight ? 0 : sums[0]! / weight;
    let sse = 0;
    let constant = true;
    if (!classes && end > start) {
      const first = y[this.idx[start]!]!;
      for (let i = start; i < end; i++) {
        const v = y[this.idx[i]!]!;
        sse += this.w[this.idx[i]!]! * (v - mean) ** 2;
        if (v !== first) constant = false;
      }
    }
    // A constant target has nothing to split, whatever rounding left in sse.
    return { weight, sums, mean, sse: constant ? 0 : sse };
  }

  /** The best split of the node [start, end), or null when no split lowers the impurity. */
  bestSplit(start: number, end: number, s: Stats): Split | null {
    const { x, y, n, classes } = this.d;
    const { idx, w, m, lc } = this;
    const W = s.weight;
    let parent = 0;
    if (classes) for (const c of s.sums) parent += c * c;
    parent /= W;
    // A split must beat the parent by more than rounding noise.
    let bestScore = classes ? parent * (1 + 1e-12) : 1e-10 * s.sse;
    if (!classes && !(s.sse > 0)) return null;
    let best: Split | null = null;
    this.o.budget.left -= this.o.features.length * (end - start);
    if (this.o.budget.left < 0) throw new BudgetExceeded();
    this.o.features.forEach((f, j) => {
      const base = j * m;
      const col = f * n;
      let wl = 0;
      let score = 0;
      if (classes) {
        lc.fill(0);
        let sqL = 0;
        let sqR = 0;
        for (const c of s.sums) sqR += c * c;
        for (let i = start; i < end - 1; i++) {
          const r = idx[base + i]!;
          const wi = w[r]!;
          const c = y[r]!;
          const a = lc[c]!;
          const b = s.sums[c]! - a;
          lc[c] = a + wi;
          sqL += (2 * a + wi) * wi;
          sqR -= (2 * b - wi) * wi;
          wl += wi;
          const v = x[col + r]!;
          const next = x[col + idx[base + i + 1]!]!;
          if (next <= v) continue;
          score = sqL / wl + sqR / (W - wl);
          if (score > bestScore) {
            bestScore = score;
            best = { feature: f, threshold: midpoint(v, next), decrease: 0, leftRows: i + 1 - start };
          }
        }
      } else {
        let sl = 0;
        for (let i = start; i < end - 1; i++) {
          const r = idx[base + i]!;
          const wi = w[r]!;
          sl += wi * (y[r]! - s.mean);
          wl += wi;
          const v = x[col + r]!;
          const next = x[col + idx[base + i + 1]!]!;
          if (next <= v) continue;
          const sr = -sl;
          score = (sl * sl) / wl + (sr * sr) / (W - wl);
          if (score > bestScore) {
            bestScore = score;
            best = { feature: f, threshold: midpoint(v, next), decrease: 0, leftRows: i + 1 - start };
          }
        }
      }
    });
    if (best) (best as Split).decrease = (bestScore - parent) / W;
    return best;
  }

  /** Stable partition of every feature's segment: the split's left rows first. Returns the boundary. */
  partition(start: number, end: number, split: Split): number {
    const { idx, m, tmp, goLeft } = this;
    const j = this.o.features.indexOf(split.feature);
    const mid = start + split.leftRows;
    for (let i = start; i < end; i++) goLeft[idx[j * m + i]!] = i < mid ? 1 : 0;
    this.o.budget.left -= this.o.features.length * (end - start);
    for (let k = 0; k < this.o.features.length; k++) {
      if (k === j) continue;
      const base = k * m;
      let l = base + start;
      let rr = 0;
      for (let i = base + start; i < base + end; i++) {
        const r = idx[i]!;
        if (goLeft[r]) idx[l++] = r;
        else tmp[rr++] = r;
      }
      idx.set(tmp.subarray(0, rr), l);
    }
    return mid;
  }
}

/** Half way between two distinct values, but never equal to the upper one (float rounding). */
function midpoint(a: number, b: number): number {
  const t = a + (b - a) / 2;
  return t >= b ? a : t;
}

/** Grows one tree. Depth counts edges from the root: max_depth 1 is a single split. */
export function growTree(d: TreeData, o: GrowOptions): FlatTree {
  const g = new Grower(d, o);
  const tree: FlatTree = { f: [], t: [], r: [], v: [] };
  // Explicit stack (left child pushed last, so it is node i + 1): an unlimited-depth tree may be
  // deeper than the JavaScript call stack allows.
  const stack: { start: number; end: number; depth: number; parent: number }[] = [{ start: 0, end: g.m, depth: 0, parent: -1 }];
  while (stack.length) {
    const node = stack.pop()!;
    const id = tree.f.length;
    if (node.parent >= 0) tree.r[node.parent] = id;
    const s = g.stats(node.start, node.end);
    const pure = d.classes > 0 && s.sums.some((c) => c === s.weight);
    const split = node.depth < o.maxDepth && s.weight >= o.minSamplesSplit && !pure ? g.bestSplit(node.start, node.end, s) : null;
    if (!split) {
      tree.f.push(-1);
      tree.t.push(tree.v.length);
      tree.r.push(0);
      tree.v.push(...leafValue(o.leaf, s));
      continue;
    }
    tree.f.push(split.feature);
    tree.t.push(split.threshold);
    tree.r.push(-1);
    const mid = g.partition(node.start, node.end, split);
    stack.push({ start: mid, end: node.end, depth: node.depth + 1, parent: id });
    stack.push({ start: node.start, end: mid, depth: node.depth + 1, parent: -1 });
  }
  return tree;
}

function leafValue(kind: LeafKind, s: Stats): number[] {
  if (kind === 'mean') return [s.weight ? s.sums[0]! / s.weight : 0];
  if (kind === 'distribution') return Array.from(s.sums);
  return [argmax(s.sums)];
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Offset in `tree.v` of the leaf a row falls in. */
export function leafOf(tree: FlatTree, row: readonly number[]): number {
  let i = 0;
  while (tree.f[i]! >= 0) i = row[tree.f[i]!]! <= tree.t[i]! ? i + 1 : tree.r[i]!;
  return tree.t[i]!;
}

/** The root split of the given rows, for tests against a brute-force search. */
export function rootSplit(d: TreeData, features: readonly number[], weights?: Int32Array): Split | null {
  const g = new Grower(d, { maxDepth: 1, minSamplesSplit: 1, features, weights, leaf: 'mean', budget: { left: Infinity } });
  return g.bestSplit(0, g.m, g.stats(0, g.m));
}
