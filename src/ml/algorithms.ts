import { z } from '@hono/zod-openapi';
import { kmeans } from 'ml-kmeans';
import KNN from 'ml-knn';
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { MlAlgorithm, MlModelType } from '../db/schema';
import { treeData } from './cart';
import { fitBudget } from './cost';
import { fitTrees, isTreesModel, treesPredictor } from './forest';
import { legacyTreesPredictor } from './legacy-trees';

/*
 * The algorithms behind one adapter: validated parameters in, plain JSON out, and a loader back
 * for prediction. Most are mljs libraries (their own toJSON()/load()); the trees are not.
 *
 * `decision_tree` and `random_forest` are our own CART (cart.ts, forest.ts). They used ml-cart
 * and ml-random-forest, but ml-cart scores every split point of every feature by re-scanning the
 * node's rows, so a node costs rows² × features: one depth-10 tree took 0.46 s of CPU at 500
 * rows, 1.6 s at 1,000, 4.4 s at 2,000 and 19 s at 4,000 (Node 20), and the benchmark's 50-tree
 * forest on 8,000 rows ran past Workers' 30 s CPU limit. cart.ts sorts each feature once and
 * sweeps each node's rows once per feature (rows × features × depth per tree): the same
 * 50-tree depth-10 forest on 8,000 rows now takes 0.6–0.8 s, one depth-10 tree about 3 ms at
 * 1,000 rows, 20 ms at 4,000 and 55 ms at 10,000 (figures in docs/api/ml.md). Models stored in
 * the old libraries' JSON still load and predict (legacy-trees.ts); new ones carry the
 * `dwc-trees-1` format marker.
 */

export const MAX_TREES = 200;

const depth = z.number().int().min(1).max(50).optional().openapi({ description: 'Maximum tree depth (default: unlimited)' });
const minSamples = z
  .number()
  .int()
  .min(1)
  .max(1000)
  .optional()
  .openapi({ description: 'Fewest rows a node needs to be split (default 3)' });

export const PARAMETER_SCHEMAS = {
  random_forest: z.strictObject({
    n_estimators: z.number().int().min(1).max(MAX_TREES).default(50),
    max_depth: depth,
    min_samples_split: minSamples,
    max_features: z.number().gt(0).max(1).default(1).openapi({ description: 'Fraction of the features each tree sees' }),
  }),
  decision_tree: z.strictObject({ max_depth: depth, min_samples_split: minSamples }),
  logistic_regression: z.strictObject({
    num_steps: z.number().int().min(1).max(20_000).default(3000),
    learning_rate: z.number().gt(0).max(1).default(0.001),
  }),
  linear_regression: z.strictObject({ fit_intercept: z.boolean().default(true) }),
  knn: z.strictObject({ k: z.number().int().min(1).max(50).default(5) }),
  kmeans: z.strictObject({
    n_clusters: z.number().int().min(2).max(50).default(3),
    max_iterations: z.number().int().min(1).max(1000).default(100),
  }),
} satisfies Record<MlAlgorithm, z.ZodType>;

export type Params<A extends MlAlgorithm> = z.infer<(typeof PARAMETER_SCHEMAS)[A]>;

/** Which model types each algorithm serves. */
export const ALGORITHM_TYPES: Record<MlAlgorithm, readonly MlModelType[]> = {
  random_forest: ['classification', 'regression'],
  decision_tree: ['classification', 'regression'],
  logistic_regression: ['classification'],
  linear_regression: ['regression'],
  knn: ['classification'],
  kmeans: ['clustering'],
};

/** Algorithms that compare distances or follow gradients get z-scored features. */
export const NEEDS_SCALING: ReadonlySet<MlAlgorithm> = new Set(['logistic_regression', 'knn', 'kmeans']);

/** A loaded model. Classifier outputs are class indices; `probabilities` rows sum to 1. */
export type Predictor = {
  predict(x: number[][]): number[];
  probabilities?: (x: number[][]) => number[][];
};

/** `cpuMs`: the CPU a tree fit may use (cost.ts) before it stops with BudgetExceeded. */
type FitInput = { x: number[][]; y: number[]; classes: number; seed: number; cpuMs: number };

/**
 * Defaults as documented: unlimited depth, and a node with fewer than min_samples_split (3) rows
 * is a leaf. (ml-cart also left nodes of exactly that many rows unsplit.)
 */
const treeLimits = (p: { max_depth?: number | undefined; min_samples_split?: number | undefined }) => ({
  maxDepth: p.max_depth ?? Infinity,
  minSamplesSplit: p.min_samples_split ?? 3,
});

/** A constant column, because ml-logistic-regression fits no intercept of its own. */
const withBias = (x: number[][]) => new Matrix(x.map((r) => [...r, 1]));

const normalise = (row: number[]) => {
  const sum = row.reduce((a, b) => a + b, 0);
  return sum > 0 ? row.map((v) => v / sum) : row.map(() => 1 / row.length);
};

/** Trains and returns the serialised model (plain JSON). */
export function fit(type: MlModelType, algorithm: MlAlgorithm, params: Record<string, unknown>, d: FitInput): unknown {
  const classify = type === 'classification';
  switch (algorithm) {
    case 'random_forest': {
      const p = PARAMETER_SCHEMAS.random_forest.parse(params);
      const data = treeData(d.x, d.y, classify ? d.classes : 0);
      return fitTrees(data, {
        trees: p.n_estimators,
        bootstrap: true,
        maxFeatures: p.max_features,
        seed: d.seed,
        ...treeLimits(p),
        budget: fitBudget(d.cpuMs),
      });
    }
    case 'decision_tree': {
      const p = PARAMETER_SCHEMAS.decision_tree.parse(params);
      const data = treeData(d.x, d.y, classify ? d.classes : 0);
      return fitTrees(data, { trees: 1, bootstrap: false, maxFeatures: 1, seed: d.seed, ...treeLimits(p), budget: fitBudget(d.cpuMs) });
    }
    case 'logistic_regression': {
      const p = PARAMETER_SCHEMAS.logistic_regression.parse(params);
      const model = new LogisticRegression({ numSteps: p.num_steps, learningRate: p.learning_rate });
      model.train(withBias(d.x), Matrix.columnVector(d.y));
      return model.toJSON();
    }
    case 'linear_regression': {
      const p = PARAMETER_SCHEMAS.linear_regression.parse(params);
      return new MultivariateLinearRegression(
        d.x,
        d.y.map((v) => [v]),
        { intercept: p.fit_intercept, statistics: false },
      ).toJSON();
    }
    case 'knn': {
      const p = PARAMETER_SCHEMAS.knn.parse(params);
      return new KNN(d.x, d.y, { k: Math.min(p.k, d.x.length) }).toJSON();
    }
    case 'kmeans': {
      const p = PARAMETER_SCHEMAS.kmeans.parse(params);
      const result = kmeans(d.x, p.n_clusters, { seed: d.seed, maxIterations: p.max_iterations, initialization: 'kmeans++' });
      return { name: 'kmeans', centroids: result.centroids, iterations: result.iterations, converged: result.converged };
    }
  }
}

const KMeansModel = z.object({ centroids: z.array(z.array(z.number())) });

/** Loads a stored model (for the mljs ones, with the library's own load()). */
export function load(algorithm: MlAlgorithm, json: unknown, classes: number): Predictor {
  switch (algorithm) {
    case 'random_forest':
    case 'decision_tree':
      // Models stored before the format marker are ml-cart / ml-random-forest JSON.
      return isTreesModel(json) ? treesPredictor(json) : legacyTreesPredictor(json, classes);
    case 'logistic_regression': {
      const model = LogisticRegression.load(json);
      // One-vs-rest: classifier c scores P(not c) (the library relabels class c as 0), so
      // 1 - score is each class's own probability, normalised across classes.
      const probabilities = (x: number[][]) => {
        const m = withBias(x);
        const scores = model.classifiers.map((clf) => clf.testScores(m));
        return x.map((_, i) => normalise(scores.map((s) => 1 - s[i]!)));
      };
      return { predict: (x) => model.predict(withBias(x)), probabilities };
    }
    case 'linear_regression': {
      const model = MultivariateLinearRegression.load(json as MultivariateLinearRegression.MLRModel);
      return { predict: (x) => model.predict(x).map((r) => r[0]!) };
    }
    case 'knn': {
      const model = KNN.load(json);
      return { predict: (x) => model.predict(x) };
    }
    case 'kmeans': {
      const { centroids } = KMeansModel.parse(json);
      // A new point belongs to its nearest centroid (squared Euclidean, as ml-kmeans assigns).
      return { predict: (x) => x.map((p) => nearest(p, centroids)) };
    }
  }
}

export function nearest(p: readonly number[], centroids: readonly number[][]): number {
  let best = 0;
  let bestD = Infinity;
  centroids.forEach((c, i) => {
    const d = c.reduce((s, v, j) => s + (v - p[j]!) ** 2, 0);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  });
  return best;
}
