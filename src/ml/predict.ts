import type { DB } from '../db/client';
import { ApiError } from '../lib/errors';
import { load, type Predictor } from './algorithms';
import { encodeRows, type Encoding, type Row } from './preprocess';
import { getVersion, loadModelJson, publicModelId, recordPrediction, type ModelRow } from './queries';
import { loadOnce, Lru } from '../cache';

/*
 * A ready version never changes (its model JSON and encoding are written once), so a loaded
 * predictor may be kept per isolate keyed by (model, version). This is only a cache: another
 * isolate, or this one after eviction, loads the same thing from D1. The cache holds the load's
 * promise, so concurrent requests to a cold isolate share one D1 read and one parse instead of
 * each loading the same model; a failed load (version not ready, D1 error) is not kept.
 */
const predictors = new Lru({ maxEntries: 8, maxBytes: Number.POSITIVE_INFINITY });
type Entry = { predictor: Predictor; encoding: Encoding };

async function loadEntry(db: DB, model: ModelRow, version: number): Promise<Entry> {
  const v = await getVersion(db, model.id, version);
  if (!v) throw new ApiError('not_found', `Version ${version} of this model not found`);
  if (v.status !== 'ready') throw new ApiError('conflict', `Version ${version} is ${v.status}, not ready`);
  const encoding = v.encoding as Encoding;
  return {
    predictor: load(model.algorithm, await loadModelJson(db, model.id, version), encoding.classes?.length ?? 0),
    encoding,
  };
}

const predictorFor = (db: DB, model: ModelRow, version: number): Promise<Entry> =>
  loadOnce(predictors, `${model.id}:${version}`, 0, () => loadEntry(db, model, version));

/**
 * Predicts with a version (default: the active one). Input rows are encoded with the version's
 * stored encoding: missing features get the training fill value, unseen categories encode as
 * all zeros, columns the model does not know are ignored.
 */
export async function predict(db: DB, model: ModelRow, userId: number, input: Row[], withProbabilities: boolean, requested?: number) {
  const version = requested ?? model.activeVersion;
  if (version === null) throw new ApiError('conflict', 'This model has no active version yet: train it, or deploy a version');
  const { predictor, encoding } = await predictorFor(db, model, version);
  const x = encodeRows(input, encoding);
  const raw = predictor.predict(x);
  const classes = encoding.classes;
  const predictions = classes ? raw.map((c) => classes[c] ?? null) : raw;
  let probabilities: Record<string, number>[] | null = null;
  if (withProbabilities && classes && predictor.probabilities) {
    probabilities = predictor
      .probabilities(x)
      .map((row) => Object.fromEntries(classes.map((c, i) => [String(c), Math.round(row[i]! * 1e6) / 1e6])));
  }
  await recordPrediction(db, model.id, version, userId, input.length);
  return { model_id: publicModelId(model.id), version, predictions, probabilities };
}
