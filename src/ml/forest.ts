import { z } from '@hono/zod-openapi';
import { seededRandom } from '../lib/random';
import { argmax, growTree, leafOf, type FlatTree, type LeafKind, type TreeData, type WorkBudget } from './cart';

/*
 * Decision trees and random forests on top of cart.ts, and their stored form.
 *
 * A forest grows each tree on a bootstrap sample (n draws with replacement, kept as per-row
 * counts rather than copied rows) and on a random subset of the features chosen once per tree
 * (`max_features` × features, at least one), as ml-random-forest did and as the parameter is
 * documented ("fraction of the features each tree sees"); it is not re-drawn at every split.
 * Every draw comes from one mulberry32 stream seeded with random_state, so a seed gives the same
 * forest on every run.
 */

/** Marks models stored by this implementation; models without it are ml-cart / ml-random-forest JSON. */
export const TREES_FORMAT = 'dwc-trees-1';

export type TreesModel = {
  format: typeof TREES_FORMAT;
  task: 'classification' | 'regression';
  classes: number;
  leaf: LeafKind;
  trees: FlatTree[];
};

export type TreesOptions = {
  trees: number;
  bootstrap: boolean;
  /** Fraction of the features each tree may split on, (0, 1]. */
  maxFeatures: number;
  maxDepth: number;
  minSamplesSplit: number;
  seed: number;
  budget: WorkBudget;
};

export function fitTrees(d: TreeData, o: TreesOptions): TreesModel {
  const rand = seededRandom(o.seed);
  const task = d.classes > 0 ? 'classification' : 'regression';
  // One tree keeps its leaves' class counts (its probabilities); a forest's trees only vote.
  const leaf: LeafKind = task === 'regression' ? 'mean' : o.trees === 1 && !o.bootstrap ? 'distribution' : 'class';
  const featureCount = Math.max(1, Math.floor(d.p * o.maxFeatures));
  const trees: FlatTree[] = [];
  for (let t = 0; t < o.trees; t++) {
    let weights: Int32Array | undefined;
    if (o.bootstrap) {
      weights = new Int32Array(d.n);
      for (let i = 0; i < d.n; i++) weights[Math.floor(rand() * d.n)]! += 1;
    }
    const features = featureCount === d.p ? Array.from({ length: d.p }, (_, f) => f) : sampleFeatures(d.p, featureCount, rand);
    trees.push(growTree(d, { maxDepth: o.maxDepth, minSamplesSplit: o.minSamplesSplit, features, weights, leaf, budget: o.budget }));
  }
  return { format: TREES_FORMAT, task, classes: d.classes, leaf, trees };
}

/** `k` distinct features out of `p` (partial Fisher–Yates), ascending. */
function sampleFeatures(p: number, k: number, rand: () => number): number[] {
  const all = Array.from({ length: p }, (_, f) => f);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (p - i));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, k).sort((a, b) => a - b);
}

const Flat = z.object({ f: z.array(z.number().int()), t: z.array(z.number()), r: z.array(z.number().int()), v: z.array(z.number()) });
const Stored = z.object({
  format: z.literal(TREES_FORMAT),
  task: z.enum(['classification', 'regression']),
  classes: z.number().int().min(0),
  leaf: z.enum(['distribution', 'class', 'mean']),
  trees: z.array(Flat).min(1),
});

export const isTreesModel = (json: unknown) =>
  typeof json === 'object' && json !== null && (json as { format?: unknown }).format === TREES_FORMAT;

/** Predictions from a stored model: class indices or values, and class probabilities for classifiers. */
export function treesPredictor(json: unknown) {
  const m = Stored.parse(json);
  const k = m.classes;
  const { trees } = m;
  if (m.task === 'regression') {
    return { predict: (x: number[][]) => x.map((row) => trees.reduce((s, tree) => s + tree.v[leafOf(tree, row)]!, 0) / trees.length) };
  }
  // A single tree: its leaf's class counts. A forest: the share of trees voting for each class.
  const probabilities = (x: number[][]) =>
    x.map((row) => {
      const p = new Array<number>(k).fill(0);
      for (const tree of trees) {
        const at = leafOf(tree, row);
        if (m.leaf === 'class') p[tree.v[at]!]! += 1;
        else for (let c = 0; c < k; c++) p[c]! += tree.v[at + c]!;
      }
      const sum = p.reduce((a, b) => a + b, 0);
      return p.map((v) => (sum > 0 ? v / sum : 1 / k));
    });
  // Ties go to the lowest class index.
  return { predict: (x: number[][]) => probabilities(x).map(argmax), probabilities };
}
