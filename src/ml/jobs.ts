import { and, eq } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { Principal } from '../lib/access';
import { type DB, runBatch, type Stmt } from '../db/client';
import { mlModels, mlModelVersions } from '../db/schema';
import { ApiError } from '../lib/errors';
import { TrainingError, type Row } from './preprocess';
import {
  blobStatements,
  dataStatements,
  failOrphanedTraining,
  getVersion,
  loadTrainingRows,
  nextVersion,
  storedRowCount,
  type ModelRow,
  type VersionRow,
} from './queries';
import { BudgetExceeded } from './cart';
import { BACKGROUND_CPU_MS, estimateCpuMs, INLINE_CPU_MS, INLINE_FIT_CPU_MS } from './cost';
import { fitPrepared, prepare, trainRows, type Prepared, type TrainSpec, type Trained } from './train';
import { submitTasks, TaskError } from '../tasks';

/*
 * Where a train runs. Small trains fit inside the request; large ones are handed to the
 * background task layer (Queues), whose consumer invocation has its own CPU budget (30 s by
 * default on the paid plan, raisable to 5 min with `limits.cpu_ms`), so a slow fit neither
 * holds a client connection nor counts against a request's CPU. Trains estimated (cost.ts) above
 * what a consumer invocation can spend are refused up front.
 */

/** Rows a model may keep stored (appends included). */
export const MAX_STORED_ROWS = 20_000;
/** Trains with more rows than this run in the background (whatever their estimated CPU). */
export const INLINE_MAX_ROWS = 1_000;

export type TrainBody = {
  training_data?: Row[] | undefined;
  target_column?: string | undefined;
  test_size: number;
  random_state: number;
  parameters?: Record<string, unknown> | undefined;
  mode: 'replace' | 'append';
  activate?: boolean | undefined;
};

/** `activeVersion`: the model's active version after this request. */
export type TrainOutcome =
  | { kind: 'trained'; version: VersionRow; activeVersion: number | null }
  | { kind: 'queued'; version: VersionRow; taskId: number; activeVersion: number | null };

/**
 * Where a train of this shape runs: inline when small and estimated at most INLINE_CPU_MS,
 * background when estimated at most BACKGROUND_CPU_MS; above that it is refused, because it
 * would be killed at the Workers CPU limit after holding the training slot for nothing.
 */
export function placement(spec: TrainSpec, p: Prepared): 'inline' | 'background' {
  const shape = { rows: p.xTrain.length, features: p.xTrain[0]?.length ?? 0, classes: p.encoding.classes?.length ?? 0 };
  const cpuMs = estimateCpuMs(spec, shape);
  if (cpuMs !== null && cpuMs > BACKGROUND_CPU_MS) {
    throw new ApiError(
      'bad_request',
      `This train is estimated at ${Math.round(cpuMs / 1000)} s of CPU (${shape.rows} training rows, ${shape.features} encoded features); a train may use at most ${BACKGROUND_CPU_MS / 1000} s. Lower ${spec.algorithm === 'logistic_regression' ? 'num_steps' : spec.algorithm === 'random_forest' ? 'n_estimators, max_depth, max_features' : 'max_depth'} or the number of rows.`,
    );
  }
  return p.xTrain.length + p.xTest.length <= INLINE_MAX_ROWS && (cpuMs ?? 0) <= INLINE_CPU_MS ? 'inline' : 'background';
}

const badInput = (err: unknown): never => {
  if (err instanceof TrainingError) throw new ApiError('bad_request', err.message);
  throw err;
};

/**
 * Validates, then trains inline (201) or queues a background train (202). Bad input is refused
 * before anything is written; an inline train writes its data, version, model JSON and the
 * model's active version in one D1 batch, so a failure leaves nothing half-stored.
 */
export async function startTraining(
  env: Env,
  db: DB,
  meta: RequestMeta,
  who: Principal,
  model: ModelRow,
  body: TrainBody,
): Promise<TrainOutcome> {
  await failOrphanedTraining(db, model.id);
  const busy = await db
    .select({ v: mlModelVersions.version })
    .from(mlModelVersions)
    .where(and(eq(mlModelVersions.modelId, model.id), eq(mlModelVersions.status, 'training')))
    .get();
  if (busy) throw new ApiError('conflict', `Version ${busy.v} of this model is still training; wait for it to finish`);

  let rows: Row[];
  const incoming = body.training_data;
  if (incoming === undefined) {
    rows = await loadTrainingRows(db, model.id);
    if (rows.length === 0) throw new ApiError('bad_request', 'No training_data given and none stored for this model');
  } else if (body.mode === 'append') {
    if ((await storedRowCount(db, model.id)) + incoming.length > MAX_STORED_ROWS)
      throw new ApiError('bad_request', `A model keeps at most ${MAX_STORED_ROWS} training rows; appending would exceed it`);
    rows = [...(await loadTrainingRows(db, model.id)), ...incoming];
  } else rows = incoming;

  const spec: TrainSpec = {
    modelType: model.modelType,
    algorithm: model.algorithm,
    parameters: { ...model.parameters, ...body.parameters },
    targetColumn: body.target_column ?? null,
    testSize: body.test_size,
    randomState: body.random_state,
  };
  let prepared;
  try {
    prepared = prepare(spec, rows);
  } catch (err) {
    return badInput(err);
  }
  const where = placement(spec, prepared);
  const version = await nextVersion(db, model.id);
  const activate = body.activate ?? model.activeVersion === null;
  const data = incoming === undefined ? [] : await dataStatements(db, model.id, incoming, body.mode);
  const base = {
    modelId: model.id,
    version,
    parameters: spec.parameters,
    targetColumn: spec.targetColumn,
    testSize: spec.testSize,
    randomState: spec.randomState,
    dataRows: rows.length,
    createdBy: who.userId,
  };
  const audit = auditInsert(db, meta, {
    action: 'ml.train',
    targetType: 'ml_model',
    targetId: model.id,
    details: { version, rows: rows.length, algorithm: model.algorithm },
  });

  // A tree fit on data far deeper than estimated stops at its inline budget and is queued instead.
  let trained: Trained | null = null;
  if (where === 'inline') {
    try {
      trained = fitPrepared(spec, prepared, INLINE_FIT_CPU_MS);
    } catch (err) {
      // The libraries throw plain Errors on data they cannot fit (e.g. degenerate columns).
      if (!(err instanceof BudgetExceeded))
        throw new ApiError('bad_request', `Training failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (trained) {
    const now = Date.now();
    const insert = db
      .insert(mlModelVersions)
      .values({
        ...base,
        status: 'ready',
        encoding: trained.encoding,
        metrics: trained.metrics,
        split: trained.split,
        finishedAt: now,
        createdAt: now,
      })
      .returning();
    const results = await batchOrConflict(db, [
      ...data,
      insert,
      ...blobStatements(db, model.id, version, trained.modelText),
      activation(db, model.id, activate ? version : null),
      audit,
    ]);
    return {
      kind: 'trained',
      version: (results[data.length] as VersionRow[])[0]!,
      activeVersion: activate ? version : model.activeVersion,
    };
  }

  const insert = db
    .insert(mlModelVersions)
    .values({ ...base, status: 'training', split: prepared.split })
    .returning();
  const results = await batchOrConflict(db, [...data, insert, activation(db, model.id, null), audit]);
  const row = (results[data.length] as VersionRow[])[0]!;
  try {
    const [task] = await submitTasks(env, db, meta, who.userId, [
      {
        name: `Train ${model.name} v${version}`.slice(0, 200),
        task_type: 'ml_train',
        priority: 'normal',
        payload: { model_id: model.id, version, activate },
        delay_seconds: 0,
        timeout_seconds: 900,
        max_retries: 2,
        idempotency_key: `ml-train-${model.id}-v${version}`,
      },
    ]);
    const taskId = task!.task.id;
    await db.update(mlModelVersions).set({ taskId }).where(eq(mlModelVersions.id, row.id));
    return { kind: 'queued', version: { ...row, taskId }, taskId, activeVersion: model.activeVersion };
  } catch (err) {
    await db
      .update(mlModelVersions)
      .set({ status: 'failed', error: 'could not queue the training task', finishedAt: Date.now() })
      .where(eq(mlModelVersions.id, row.id));
    throw err;
  }
}

/** Touches the model; with a version, makes it the active one. */
const activation = (db: DB, modelId: number, version: number | null) =>
  db
    .update(mlModels)
    .set({ updatedAt: Date.now(), ...(version === null ? {} : { activeVersion: version }) })
    .where(eq(mlModels.id, modelId));

async function batchOrConflict(db: DB, statements: Stmt[]) {
  try {
    return await runBatch(db, statements);
  } catch (err) {
    // Two trains of one model raced for the same version number (unique index), or for the
    // one `training` slot (partial unique index): the loser writes nothing.
    const text = `${String(err)} ${err instanceof Error ? String(err.cause ?? '') : ''}`;
    if (text.includes('UNIQUE')) {
      throw new ApiError('conflict', 'Another training of this model started at the same time; try again');
    }
    throw err;
  }
}

export type MlTrainPayload = { model_id: number; version: number; activate: boolean };

/**
 * The background half of a large train (the ml_train task). It re-reads the version's rows from
 * D1 and fits them; its writes are conditioned on the version still being `training`, so a
 * redelivered message after success changes nothing.
 */
export async function finishTraining(db: DB, ownerId: number, p: MlTrainPayload): Promise<{ result: unknown; statements: Stmt[] }> {
  const model = await db
    .select()
    .from(mlModels)
    .where(and(eq(mlModels.id, p.model_id), eq(mlModels.ownerId, ownerId)))
    .get();
  if (!model) throw new TaskError('model not found', false);
  const v = await getVersion(db, model.id, p.version);
  if (!v) throw new TaskError('model version not found', false);
  if (v.status !== 'training') return { result: { model_id: p.model_id, version: p.version, status: v.status }, statements: [] };
  const spec: TrainSpec = {
    modelType: model.modelType,
    algorithm: model.algorithm,
    parameters: v.parameters,
    targetColumn: v.targetColumn,
    testSize: v.testSize,
    randomState: v.randomState,
  };
  // A failed read is thrown as is: the consumer retries it. A failed fit is final.
  const rows = await loadTrainingRows(db, model.id, v.dataRows);
  let trained: Trained;
  try {
    trained = trainRows(spec, rows);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await db
      .update(mlModelVersions)
      .set({ status: 'failed', error: message, finishedAt: Date.now() })
      .where(and(eq(mlModelVersions.id, v.id), eq(mlModelVersions.status, 'training')));
    throw new TaskError(`training failed: ${message}`, false);
  }
  const statements: Stmt[] = [
    ...blobStatements(db, model.id, v.version, trained.modelText),
    db
      .update(mlModelVersions)
      .set({ status: 'ready', encoding: trained.encoding, metrics: trained.metrics, split: trained.split, finishedAt: Date.now() })
      .where(and(eq(mlModelVersions.id, v.id), eq(mlModelVersions.status, 'training'))),
    ...(p.activate ? [db.update(mlModels).set({ activeVersion: v.version, updatedAt: Date.now() }).where(eq(mlModels.id, model.id))] : []),
  ];
  return { result: { model_id: p.model_id, version: p.version, status: 'ready', metrics: trained.metrics }, statements };
}
