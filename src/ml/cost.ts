import type { WorkBudget } from './cart';
import type { MlAlgorithm } from '../db/schema';

/*
 * How much CPU a train will need, estimated before anything runs, so a request can decide to
 * fit inline, to queue, or to refuse. Workers stop an invocation at its CPU limit (30 s by
 * default for requests and queue consumers on the paid plan); a train that hits it is killed,
 * retried and finally failed, which is the outcome these estimates are here to avoid.
 *
 * Trees are counted in "work units" (cart.ts charges them as it goes): one unit per row per
 * candidate feature swept in a split search, the same again for the partition, one per row for
 * a node's statistics, 50 per node, and one per row and feature to set a tree up. Measured in
 * Node 20 (same V8 as workerd) on the benchmark's data and on noise: 11–18 ns of CPU per unit
 * once compiled; TREE_NS_PER_UNIT takes 20. A tree's sweeps cost rows × features per level;
 * the levels are capped by max_depth, and for unlimited depth we assume 2 × log2(rows): fully
 * grown trees on the benchmark data and on pure noise averaged 0.75–1.5 × log2(rows).
 * Adversarial data can grow deeper, lopsided trees, which is why the fit also carries a work
 * budget (fitBudget) and stops with a clear error when it runs out.
 *
 * Logistic regression (ml-logistic-regression, one-vs-rest gradient descent) costs about 21 ns
 * per row × step × (features + 1) × class (measured: 1,000 rows, 12 features, 3 classes, 3,000
 * steps took 2.5 s). The other algorithms are single passes or converge quickly at these sizes
 * and are not estimated (null): they run inline up to INLINE_MAX_ROWS rows.
 */

/** An inline train is estimated at most this; a larger one runs in the background. */
export const INLINE_CPU_MS = 250;
/** The work budget of an inline fit; beyond it the train is handed to the background instead. */
export const INLINE_FIT_CPU_MS = 500;
/** A background train estimated above this is refused (400): it would not fit the 30 s limit. */
export const BACKGROUND_CPU_MS = 25_000;

const TREE_NS_PER_UNIT = 20;
const LOGREG_NS = 21;

type Shape = { rows: number; features: number; classes: number };

const num = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);

/** Work units of a tree fit (see above). Exported for tests of the estimate against a real fit. */
export function treeUnits(p: { trees: number; bootstrap: boolean; maxFeatures: number; maxDepth: number }, s: Shape): number {
  const inBag = p.bootstrap ? 0.632 * s.rows : s.rows;
  const features = Math.max(1, Math.floor(s.features * p.maxFeatures));
  const levels = Math.min(p.maxDepth, Math.max(1, 2 * Math.log2(Math.max(inBag, 2))));
  const nodes = Math.min(2 ** (levels + 1), 2 * inBag);
  // Per tree: set-up, then per level a sweep and a partition of every in-bag row, statistics at
  // each level and at the leaves below the last one, and the per-node charge.
  return p.trees * (features * s.rows + inBag * (2 * features * levels + levels + 1) + 50 * nodes);
}

/** Estimated CPU milliseconds of fitting `spec`, or null where it is not estimated. */
export function estimateCpuMs(spec: { algorithm: MlAlgorithm; parameters: Record<string, unknown> }, s: Shape): number | null {
  const p = spec.parameters;
  const maxDepth = num(p.max_depth, Infinity);
  if (spec.algorithm === 'random_forest') {
    return (
      (treeUnits({ trees: num(p.n_estimators, 50), bootstrap: true, maxFeatures: num(p.max_features, 1), maxDepth }, s) *
        TREE_NS_PER_UNIT) /
      1e6
    );
  }
  if (spec.algorithm === 'decision_tree')
    return (treeUnits({ trees: 1, bootstrap: false, maxFeatures: 1, maxDepth }, s) * TREE_NS_PER_UNIT) / 1e6;
  if (spec.algorithm === 'logistic_regression')
    return (s.rows * num(p.num_steps, 3000) * (s.features + 1) * Math.max(s.classes, 2) * LOGREG_NS) / 1e6;
  return null;
}

/** The work a tree fit may do: `cpuMs` at the estimate's rate. */
export const fitBudget = (cpuMs: number): WorkBudget => ({ left: (cpuMs * 1e6) / TREE_NS_PER_UNIT });
