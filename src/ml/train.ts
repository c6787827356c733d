import { fit, load, NEEDS_SCALING, PARAMETER_SCHEMAS } from './algorithms';
import { BACKGROUND_CPU_MS } from './cost';
import { classificationMetrics, inertia, regressionMetrics } from './metrics';
import {
  applyScale,
  classTargets,
  encodeRow,
  featureColumns,
  learnFeatures,
  learnScale,
  numericTargets,
  TrainingError,
  type Encoding,
  type Row,
} from './preprocess';
import { trainTestSplit } from './split';
import type { MlAlgorithm, MlModelType } from '../db/schema';

export type TrainSpec = {
  modelType: MlModelType;
  algorithm: MlAlgorithm;
  parameters: Record<string, unknown>;
  targetColumn: string | null;
  testSize: number;
  randomState: number;
};

export type SplitInfo = { train_rows: number; test_rows: number; stratified: boolean; test_indices: number[] };

export type Prepared = { encoding: Encoding; split: SplitInfo; xTrain: number[][]; yTrain: number[]; xTest: number[][]; yTest: number[] };

/** `modelText`: the model's JSON, serialised once (the mljs loaders mutate the object they are given). */
export type Trained = { modelText: string; encoding: Encoding; split: SplitInfo; metrics: Record<string, unknown> | null };

/**
 * Validates the rows against the spec, splits them and encodes both parts. It is linear in the
 * data and fits nothing, so a train request can be refused (400) before any slow work or any
 * write, including for trains that then run in the background.
 */
export function prepare(spec: TrainSpec, rows: readonly Row[]): Prepared {
  if (rows.length === 0) throw new TrainingError('training_data is empty');
  const params = PARAMETER_SCHEMAS[spec.algorithm].safeParse(spec.parameters);
  if (!params.success)
    throw new TrainingError(
      `invalid parameters for ${spec.algorithm}: ${params.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  const target = spec.targetColumn;
  if (spec.modelType !== 'clustering') {
    if (!target) throw new TrainingError(`target_column is required for ${spec.modelType}`);
    if (!rows.some((r) => target in r)) throw new TrainingError(`target column "${target}" is not in training_data`);
  }
  const columns = featureColumns(rows, target);

  let y: number[] = [];
  let classes: Encoding['classes'] = null;
  if (spec.modelType === 'classification') {
    const t = classTargets(rows, target!);
    y = t.labels;
    classes = t.classes;
    if (classes.length < 2) throw new TrainingError(`classification needs at least 2 classes in "${target}"; found ${classes.length}`);
  } else if (spec.modelType === 'regression') y = numericTargets(rows, target!);

  const stratified = spec.modelType === 'classification';
  const { train, test } = trainTestSplit(rows.length, spec.testSize, spec.randomState, stratified ? y : undefined);
  if (train.length < 2)
    throw new TrainingError(
      `too few rows for test_size ${spec.testSize}: ${rows.length} rows leave ${train.length} for training (at least 2 needed)`,
    );
  if (classes && new Set(train.map((i) => y[i])).size < 2)
    throw new TrainingError('too few rows: the training part of the split holds a single class');
  if (spec.algorithm === 'kmeans') {
    const k = (params.data as { n_clusters: number }).n_clusters;
    if (train.length < k) throw new TrainingError(`too few rows: n_clusters is ${k} but the training part holds ${train.length} rows`);
  }

  const features = learnFeatures(rows, train, columns);
  const encTrain = train.map((i) => encodeRow(rows[i]!, features));
  const scale = NEEDS_SCALING.has(spec.algorithm) ? learnScale(encTrain) : null;
  const encoding: Encoding = { features, scale, classes };
  return {
    encoding,
    split: { train_rows: train.length, test_rows: test.length, stratified, test_indices: test },
    xTrain: applyScale(encTrain, scale),
    yTrain: train.map((i) => y[i] ?? 0),
    xTest: applyScale(
      test.map((i) => encodeRow(rows[i]!, features)),
      scale,
    ),
    yTest: test.map((i) => y[i] ?? 0),
  };
}

/** Fits the prepared data and measures the held-out part. `cpuMs` bounds a tree fit (cost.ts). */
export function fitPrepared(spec: TrainSpec, p: Prepared, cpuMs = BACKGROUND_CPU_MS): Trained {
  const params = PARAMETER_SCHEMAS[spec.algorithm].parse(spec.parameters) as Record<string, unknown>;
  const classCount = p.encoding.classes?.length ?? 0;
  const modelJson = fit(spec.modelType, spec.algorithm, params, {
    x: p.xTrain,
    y: p.yTrain,
    classes: classCount,
    seed: spec.randomState,
    cpuMs,
  });
  // Metrics come from the model as stored: serialised, then loaded back.
  const modelText = JSON.stringify(modelJson);
  const stored: unknown = JSON.parse(modelText);
  const predictor = load(spec.algorithm, stored, classCount);
  let metrics: Record<string, unknown> | null = null;
  if (spec.modelType === 'clustering') {
    const centroids = (stored as { centroids: number[][] }).centroids;
    const assigned = predictor.predict(p.xTrain);
    const sizes = centroids.map((_, c) => assigned.filter((a) => a === c).length);
    metrics = {
      inertia: inertia(p.xTrain, assigned, centroids),
      test_inertia: p.xTest.length ? inertia(p.xTest, predictor.predict(p.xTest), centroids) : null,
      cluster_sizes: sizes,
      test_rows: p.xTest.length,
    };
  } else if (p.xTest.length > 0) {
    const predicted = predictor.predict(p.xTest);
    metrics =
      spec.modelType === 'classification'
        ? classificationMetrics(p.yTest, predicted, p.encoding.classes!)
        : regressionMetrics(p.yTest, predicted);
  }
  return { modelText, encoding: p.encoding, split: p.split, metrics };
}

export const trainRows = (spec: TrainSpec, rows: readonly Row[]) => fitPrepared(spec, prepare(spec, rows));

export { TrainingError };
