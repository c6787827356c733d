import { z } from '@hono/zod-openapi';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { kmeans } from 'ml-kmeans';
import KNN from 'ml-knn';
import LogisticRegression from 'ml-logistic-regression';
import { Matrix } from 'ml-matrix';
import { RandomForestClassifier, RandomForestRegression } from 'ml-random-forest';
import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import type { MlAlgorithm, MlModelType } from '../db/schema';

/*
 * The algorithms, each an mljs library behind one adapter: validated parameters in, the
 * library's own toJSON() out, and its load() back for prediction. Nothing here implements a
 * learning algorithm itself; the adapters only translate parameters and shapes.
 */

export const MAX_TREES = 200;

const depth = z.number().int().min(1).max(50).optional().openapi({ description: 'Maximum tree depth (default: unlimited)' });
const minSamples = z.number().int().min(1).max(1000).optional().openapi({ description: 'Fewest rows a node needs to be split (default 3)' });

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

type FitInput = { x: number[][]; y: number[]; classes: number; seed: number };

const treeOptions = (p: { max_depth?: number | undefined; min_samples_split?: number | undefined }) => ({
  ...(p.max_depth ? { maxDepth: p.max_depth } : {}),
  ...(p.min_samples_split ? { minNumSamples: p.min_samples_split } : {}),
});

/** A constant column, because ml-logistic-regression fits no intercept of its own. */
const withBias = (x: number[][]) => new Matrix(x.map((r) => [...r, 1]));

const normalise = (row: number[]) => {
  const sum = row.reduce((a, b) => a + b, 0);
  return sum > 0 ? row.map((v) => v / sum) : row.map(() => 1 / row.length);
};

/** Trains and returns the library's serialised model (plain JSON). */
export function fit(type: MlModelType, algorithm: MlAlgorithm, params: Record<string, unknown>, d: FitInput): unknown {
  const classify = type === 'classification';
  switch (algorithm) {
    case 'random_forest': {
      const p = PARAMETER_SCHEMAS.random_forest.parse(params);
      const options = { nEstimators: p.n_estimators, maxFeatures: p.max_features, seed: d.seed, treeOptions: treeOptions(p), noOOB: true };
      const model = classify ? new RandomForestClassifier(options) : new RandomForestRegression(options);
      model.train(d.x, d.y);
      return model.toJSON();
    }
    case 'decision_tree': {
      const p = PARAMETER_SCHEMAS.decision_tree.parse(params);
      const model = classify ? new DecisionTreeClassifier(treeOptions(p)) : new DecisionTreeRegression(treeOptions(p));
      model.train(d.x, d.y);
      return model.toJSON();
    }
    case 'logistic_regression': {
      const p = PARAMETER_SCHEMAS.logistic_regression.parse(params);
      const model = new LogisticRegression({ numSteps: p.num_steps, learningRate: p.learning_rate });
      model.train(withBias(d.x), Matrix.columnVector(d.y));
      return model.toJSON();
    }
    case 'linear_regression': {
      const p = PARAMETER_SCHEMAS.linear_regression.parse(params);
      return new MultivariateLinearRegression(d.x, d.y.map((v) => [v]), { intercept: p.fit_intercept, statistics: false }).toJSON();
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

/** Loads a stored model with the library's own load(). */
export function load(type: MlModelType, algorithm: MlAlgorithm, json: unknown, classes: number): Predictor {
  const classify = type === 'classification';
  switch (algorithm) {
    case 'random_forest': {
      const model = classify ? RandomForestClassifier.load(json) : RandomForestRegression.load(json);
      return {
        predict: (x) => model.predict(x),
        // The share of trees voting for each class. (The library's predictProbability seeds its
        // reduce with the first tree's label, which skews it; the per-tree votes are exact.)
        ...(classify
          ? {
              probabilities: (x) =>
                model
                  .predictionValues(x)
                  .to2DArray()
                  .map((votes) => normalise(Array.from({ length: classes }, (_, c) => votes.filter((v) => v === c).length))),
            }
          : {}),
      };
    }
    case 'decision_tree': {
      if (!classify) {
        const model = DecisionTreeRegression.load(json);
        return { predict: (x) => model.predict(x) };
      }
      const model = DecisionTreeClassifier.load(json);
      return {
        predict: (x) => model.predict(x),
        // The class distribution of the training rows in the leaf each row falls in.
        probabilities: (x) =>
          x.map((row) => {
            const leaf = model.root.classify(row);
            const dist = typeof leaf === 'number' ? [] : leaf.getRow(0);
            return normalise(Array.from({ length: classes }, (_, c) => dist[c] ?? 0));
          }),
      };
    }
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
