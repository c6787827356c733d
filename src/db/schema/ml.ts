/** Machine-learning models, their versions, blobs, training rows and predictions (src/ml). */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const ML_MODEL_TYPES = ['classification', 'regression', 'clustering'] as const;
export type MlModelType = (typeof ML_MODEL_TYPES)[number];
export const ML_ALGORITHMS = ['random_forest', 'decision_tree', 'logistic_regression', 'linear_regression', 'knn', 'kmeans'] as const;
export type MlAlgorithm = (typeof ML_ALGORITHMS)[number];
export const ML_VERSION_STATUSES = ['training', 'ready', 'failed'] as const;

/** A model: what to learn and how. Its trained, immutable artefacts are its versions. */
export const mlModels = sqliteTable(
  'ml_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    modelType: text('model_type', { enum: ML_MODEL_TYPES }).notNull(),
    algorithm: text('algorithm', { enum: ML_ALGORITHMS }).notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** The version predictions use by default; null until one is trained or deployed. */
    activeVersion: integer('active_version'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('ml_models_owner_idx').on(t.ownerId, t.id)],
);

/**
 * One training run's result. A ready version is immutable: its model JSON
 * (ml_model_blobs), encoding and metrics are written once. At most one version per model is
 * `training` at a time (the partial unique index), which serialises background trains.
 */
export const mlModelVersions = sqliteTable(
  'ml_model_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    status: text('status', { enum: ML_VERSION_STATUSES }).notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    targetColumn: text('target_column'),
    testSize: real('test_size').notNull(),
    randomState: integer('random_state').notNull(),
    /** How many stored training rows (in order) this version was trained from. */
    dataRows: integer('data_rows').notNull(),
    encoding: text('encoding', { mode: 'json' }).$type<unknown>(),
    metrics: text('metrics', { mode: 'json' }).$type<unknown>(),
    split: text('split', { mode: 'json' }).$type<unknown>(),
    taskId: integer('task_id'),
    error: text('error'),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('ml_model_versions_unique').on(t.modelId, t.version),
    index('ml_model_versions_model_idx').on(t.modelId, t.id),
    uniqueIndex('ml_model_versions_one_training').on(t.modelId).where(sql`status = 'training'`),
  ],
);

/** A version's serialised model (the library's toJSON), in parts that stay under D1's row size. */
export const mlModelBlobs = sqliteTable(
  'ml_model_blobs',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    part: integer('part').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.version, t.part] })],
);

/** A model's stored training rows, in chunks of JSON arrays, ordered by `seq`. */
export const mlTrainingChunks = sqliteTable(
  'ml_training_chunks',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    rowCount: integer('row_count').notNull(),
    rows: text('rows', { mode: 'json' }).$type<unknown[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.seq] })],
);

/** One row per predict call, so prediction counts are counted, not kept in memory. */
export const mlPredictions = sqliteTable(
  'ml_predictions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    userId: integer('user_id'),
    rowCount: integer('row_count').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('ml_predictions_model_idx').on(t.modelId, t.createdAt)],
);
