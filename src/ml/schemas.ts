import { z } from '@hono/zod-openapi';
import { ML_ALGORITHMS, ML_MODEL_TYPES, ML_VERSION_STATUSES } from '../db/schema';
import { MAX_FEATURES } from './preprocess';

/** Most rows one train or predict request may carry (the 1 MB body limit usually binds first). */
export const MAX_REQUEST_ROWS = 5_000;
export const MAX_PREDICT_ROWS = 1_000;

export const ModelIdParam = z.object({
  model_id: z
    .string()
    .max(40)
    .regex(/^ml_model_[1-9][0-9]{0,14}$/, 'a model id looks like ml_model_1')
    .transform((s) => Number(s.slice('ml_model_'.length)))
    .openapi({ param: { name: 'model_id', in: 'path' }, example: 'ml_model_1', type: 'string' }),
});

export const VersionParam = ModelIdParam.extend({
  version: z.coerce
    .number()
    .int()
    .positive()
    .max(1_000_000)
    .openapi({ param: { name: 'version', in: 'path' }, example: 1 }),
});

const Cell = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const DataRow = z
  .record(z.string().min(1).max(100), Cell)
  .refine((r) => Object.keys(r).length <= MAX_FEATURES + 1, `a row has at most ${MAX_FEATURES + 1} columns`);

const Parameters = z
  .record(z.string().max(50), z.union([z.number(), z.boolean(), z.string().max(50)]))
  .refine((p) => Object.keys(p).length <= 20, 'at most 20 parameters');

export const CreateModelBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Customer Churn Prediction' }),
    model_type: z.enum(ML_MODEL_TYPES),
    algorithm: z.enum(ML_ALGORITHMS).openapi({
      description:
        'classification: random_forest, decision_tree, logistic_regression, knn; regression: random_forest, decision_tree, linear_regression; clustering: kmeans',
    }),
    description: z.string().max(2000).optional(),
    parameters: Parameters.default({}).openapi({
      description: 'Per algorithm; see the README. Unknown parameters are refused.',
      example: { n_estimators: 100, max_depth: 10 },
    }),
  })
  .openapi('MlModelCreate');

export const TrainBody = z
  .strictObject({
    training_data: z
      .array(DataRow)
      .max(MAX_REQUEST_ROWS)
      .optional()
      .openapi({ description: `Row objects (at most ${MAX_REQUEST_ROWS}); omit to retrain on the stored rows` }),
    target_column: z.string().min(1).max(100).optional().openapi({
      description: 'Required for classification and regression; ignored (excluded from features) for clustering',
      example: 'churn',
    }),
    test_size: z.number().min(0).max(0.9).default(0.2).openapi({ description: 'Share of rows held out for metrics' }),
    random_state: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42)
      .openapi({ description: 'Seed of the split and of the algorithm' }),
    parameters: Parameters.optional().openapi({ description: "Override the model's parameters for this version" }),
    mode: z
      .enum(['replace', 'append'])
      .default('replace')
      .openapi({ description: 'replace: the stored rows become training_data; append: training_data is added to them' }),
    activate: z
      .boolean()
      .optional()
      .openapi({ description: 'Make the new version active; default: only when the model has no active version' }),
  })
  .openapi('MlTrain');

export const PredictBody = z
  .strictObject({
    input_data: z.array(DataRow).min(1).max(MAX_PREDICT_ROWS),
    return_probabilities: z.boolean().default(false),
    version: z.number().int().positive().optional().openapi({ description: 'Default: the active version' }),
  })
  .openapi('MlPredict');

const iso = z.string().openapi({ format: 'date-time' });

export const ModelSchema = z
  .object({
    id: z.string().openapi({ example: 'ml_model_1' }),
    name: z.string(),
    description: z.string().nullable(),
    model_type: z.enum(ML_MODEL_TYPES),
    algorithm: z.enum(ML_ALGORITHMS),
    parameters: z.record(z.string(), z.unknown()),
    active_version: z.number().int().nullable(),
    owner_id: z.number().int(),
    stored_rows: z.number().int().optional(),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('MlModel');

export const VersionSchema = z
  .object({
    model_id: z.string(),
    version: z.number().int(),
    status: z.enum(ML_VERSION_STATUSES),
    active: z.boolean(),
    parameters: z.record(z.string(), z.unknown()),
    target_column: z.string().nullable(),
    test_size: z.number(),
    random_state: z.number().int(),
    training_rows: z.number().int(),
    features: z.array(z.object({ name: z.string(), kind: z.enum(['numeric', 'categorical']) }).passthrough()).nullable(),
    classes: z.array(z.unknown()).nullable(),
    metrics: z.record(z.string(), z.unknown()).nullable(),
    split: z.record(z.string(), z.unknown()).nullable().openapi({
      description: 'train_rows, test_rows, stratified, and test_indices (positions of the held-out rows in the training rows)',
    }),
    task_id: z.number().int().nullable(),
    error: z.string().nullable(),
    created_at: iso,
    finished_at: iso.nullable(),
  })
  .openapi('MlModelVersion');

export const TrainResponse = z
  .object({ status: z.enum(['ready', 'training']), task_id: z.number().int().nullable(), version: VersionSchema })
  .openapi('MlTrainResult');

export const PredictResponse = z
  .object({
    model_id: z.string(),
    version: z.number().int(),
    predictions: z.array(z.unknown()),
    probabilities: z
      .array(z.record(z.string(), z.number()))
      .nullable()
      .openapi({ description: 'Per row, class label → probability (classifiers that provide them); null otherwise' }),
  })
  .openapi('MlPrediction');

export const StatsSchema = z
  .object({
    scope: z.enum(['own', 'all']),
    models: z.number().int(),
    models_by_type: z.record(z.string(), z.number().int()),
    models_by_algorithm: z.record(z.string(), z.number().int()),
    active_models: z.number().int(),
    versions: z.record(z.string(), z.number().int()),
    training_rows_stored: z.number().int(),
    predictions: z.object({ requests: z.number().int(), rows: z.number().int(), last_24h_requests: z.number().int() }),
  })
  .openapi('MlStats');
