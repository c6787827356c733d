import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { auditInsert } from '../lib/audit';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { mlModels } from '../db/schema';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { ALGORITHM_TYPES, PARAMETER_SCHEMAS } from './algorithms';
import { startTraining } from './jobs';
import { predict } from './predict';
import {
  CreateModelBody,
  ModelIdParam,
  ModelSchema,
  PredictBody,
  PredictResponse,
  StatsSchema,
  TrainBody,
  TrainResponse,
  VersionParam,
  VersionSchema,
} from './schemas';
import { failOrphanedTraining, findModel, getVersion, listModels, listVersions, storedRowCount } from './queries';
import { mlStats, modelView, versionView } from './views';
import { runBatch } from '../db/client';
import { requestMeta } from '../lib/context';

const read = { roles: ANY_ROLE, scope: 'ml:read' } as const;
const write = { roles: WRITERS, scope: 'ml:write' } as const;
const tags = ['ml'];

export const mlRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models',
        operationId: 'createMlModel',
        tags,
        summary: 'Create a model (untrained until its first train)',
        request: { body: jsonBody(CreateModelBody) },
        responses: { 201: jsonResponse(ModelSchema, 'The model'), ...errorResponses('validation_error', 'bad_request') },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      if (!ALGORITHM_TYPES[b.algorithm].includes(b.model_type)) {
        throw new ApiError('bad_request', `${b.algorithm} does not do ${b.model_type}; it does ${ALGORITHM_TYPES[b.algorithm].join(', ')}`);
      }
      const params = PARAMETER_SCHEMAS[b.algorithm].safeParse(b.parameters);
      if (!params.success) {
        throw new ApiError('validation_error', 'Request validation failed', {
          details: params.error.issues.map((i) => ({ path: ['parameters', ...i.path], code: i.code, message: i.message })),
        });
      }
      const db = c.var.db;
      const [rows] = await runBatch(db, [
        db
          .insert(mlModels)
          .values({
            ownerId: c.var.principal.userId,
            name: b.name,
            description: b.description ?? null,
            modelType: b.model_type,
            algorithm: b.algorithm,
            parameters: params.data as Record<string, unknown>,
          })
          .returning(),
      ]);
      const model = (rows as (typeof mlModels.$inferSelect)[])[0]!;
      await auditInsert(db, requestMeta(c), {
        action: 'ml.model.create',
        targetType: 'ml_model',
        targetId: model.id,
        details: { algorithm: model.algorithm },
      });
      return c.json(modelView(model, 0), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models',
        operationId: 'listMlModels',
        tags,
        summary: 'Your models, newest first (admins: every model)',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(ModelSchema, 'MlModelPage'), 'Models'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listModels(c.var.db, c.var.principal, q.limit, decodeCursor(q.cursor));
      return c.json(
        toPage(rows, q.limit, (m) => modelView(m)),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models/{model_id}',
        operationId: 'getMlModel',
        tags,
        summary: 'One model, with how many training rows it stores',
        request: { params: ModelIdParam },
        responses: { 200: jsonResponse(ModelSchema, 'The model'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const model = await findModel(c.var.db, c.var.principal, c.req.valid('param').model_id);
      return c.json(modelView(model, await storedRowCount(c.var.db, model.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/models/{model_id}',
        operationId: 'deleteMlModel',
        tags,
        summary: 'Delete a model with its versions, stored rows and prediction log',
        request: { params: ModelIdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const model = await findModel(db, c.var.principal, c.req.valid('param').model_id, true);
      await runBatch(db, [
        db.delete(mlModels).where(and(eq(mlModels.id, model.id), eq(mlModels.ownerId, model.ownerId))),
        auditInsert(db, requestMeta(c), { action: 'ml.model.delete', targetType: 'ml_model', targetId: model.id }),
      ]);
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models/{model_id}/train',
        operationId: 'trainMlModel',
        tags,
        summary: 'Train a new version: inline (201) when small, in the background (202) when large',
        request: { params: ModelIdParam, body: jsonBody(TrainBody) },
        responses: {
          201: jsonResponse(TrainResponse, 'Trained: the new version with its held-out metrics'),
          202: jsonResponse(TrainResponse, 'Queued: follow task_id under /api/v3/background/tasks, or the version'),
          ...errorResponses('validation_error', 'bad_request', 'not_found', 'conflict', 'rate_limited'),
        },
      }),
    ),
    async (c) => {
      const model = await findModel(c.var.db, c.var.principal, c.req.valid('param').model_id, true);
      const out = await startTraining(c.env, c.var.db, requestMeta(c), c.var.principal, model, c.req.valid('json'));
      const body = {
        status: out.kind === 'trained' ? ('ready' as const) : ('training' as const),
        task_id: out.kind === 'queued' ? out.taskId : null,
        version: versionView(out.version, out.activeVersion),
      };
      return out.kind === 'trained' ? c.json(body, 201) : c.json(body, 202);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models/{model_id}/versions',
        operationId: 'listMlModelVersions',
        tags,
        summary: "A model's versions, newest first",
        request: { params: ModelIdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(VersionSchema, 'MlModelVersionPage'), 'Versions'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const model = await findModel(c.var.db, c.var.principal, c.req.valid('param').model_id);
      await failOrphanedTraining(c.var.db, model.id);
      const q = c.req.valid('query');
      const rows = await listVersions(c.var.db, model.id, q.limit, decodeCursor(q.cursor));
      return c.json(
        toPage(rows, q.limit, (v) => versionView(v, model.activeVersion)),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models/{model_id}/versions/{version}',
        operationId: 'getMlModelVersion',
        tags,
        summary: 'One version: status, metrics, encoding, split',
        request: { params: VersionParam },
        responses: { 200: jsonResponse(VersionSchema, 'The version'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const model = await findModel(c.var.db, c.var.principal, p.model_id);
      await failOrphanedTraining(c.var.db, model.id);
      const v = await getVersion(c.var.db, model.id, p.version);
      if (!v) throw new ApiError('not_found', 'Version not found');
      return c.json(versionView(v, model.activeVersion), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models/{model_id}/versions/{version}/deploy',
        operationId: 'deployMlModelVersion',
        tags,
        summary: 'Make a ready version the one predictions use',
        request: { params: VersionParam },
        responses: {
          200: jsonResponse(ModelSchema, 'The model, with its new active version'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const db = c.var.db;
      const model = await findModel(db, c.var.principal, p.model_id, true);
      const v = await getVersion(db, model.id, p.version);
      if (!v) throw new ApiError('not_found', 'Version not found');
      if (v.status !== 'ready') throw new ApiError('conflict', `Version ${v.version} is ${v.status}; only a ready version can be deployed`);
      const [rows] = await runBatch(db, [
        db.update(mlModels).set({ activeVersion: v.version, updatedAt: Date.now() }).where(eq(mlModels.id, model.id)).returning(),
        auditInsert(db, requestMeta(c), {
          action: 'ml.model.deploy',
          targetType: 'ml_model',
          targetId: model.id,
          details: { version: v.version, previous: model.activeVersion },
        }),
      ]);
      return c.json(modelView((rows as (typeof mlModels.$inferSelect)[])[0]!), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'post',
        path: '/models/{model_id}/predict',
        operationId: 'predictMlModel',
        tags,
        summary: 'Predict with the active (or a given) version; probabilities for classifiers that have them',
        request: { params: ModelIdParam, body: jsonBody(PredictBody) },
        responses: {
          200: jsonResponse(PredictResponse, 'Predictions, one per input row'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const model = await findModel(c.var.db, c.var.principal, c.req.valid('param').model_id);
      const b = c.req.valid('json');
      return c.json(await predict(c.var.db, model, c.var.principal.userId, b.input_data, b.return_probabilities, b.version), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/stats',
        operationId: 'getMlStats',
        tags,
        summary: 'Counts of models, versions, stored rows and predictions (yours; admins: all)',
        responses: { 200: jsonResponse(StatsSchema, 'Statistics') },
      }),
    ),
    async (c) => c.json(await mlStats(c.var.db, c.var.principal), 200),
  );
