/**
 * Model routes: create, list, train, evaluate, recommend. A model reads its owner's dataset;
 * admins may use any model (it still reads its owner's data, never the admin's).
 */
import { createRoute, type z } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { trainContent } from './algorithms/content';
import { profileOf } from './algorithms/matrix';
import type { UserContext } from './algorithms/scored';
import { needsDocs, popularityNeeded, recommend, train } from './engine';
import { evaluate } from './evaluate';
import { createModel, listModels, loadArtefact, modelFor, modelView, publicModelId, saveVersion } from './models';
import { read, tags, write } from './access';
import { EvaluateBody, EvaluationSchema, ModelBody, ModelParam, ModelSchema, RecommendationSchema, RecommendBody } from './schemas';
import { itemDocs, MAX_POPULAR, popularity, trainingRows, userRowsAndPopularity } from './queries';
import { INTERACTION_WEIGHTS, PARAMETER_SCHEMAS, RECOMMENDATION_TYPES, type Algorithm } from './weights';

function resolveModel(body: z.infer<typeof ModelBody>) {
  const family = body.recommendation_type ? RECOMMENDATION_TYPES[body.recommendation_type]! : undefined;
  const algorithm: Algorithm | undefined = body.algorithm ?? family?.default;
  if (!algorithm)
    throw new ApiError('validation_error', 'Give `algorithm` or `recommendation_type`', {
      details: [{ path: ['algorithm'], message: 'required' }],
    });
  if (family && !family.family.includes(algorithm)) {
    throw new ApiError('validation_error', `algorithm ${algorithm} is not a kind of ${body.recommendation_type}`, {
      details: [{ path: ['algorithm'], message: `one of ${family.family.join(', ')}` }],
    });
  }
  const parsed = PARAMETER_SCHEMAS[algorithm].safeParse(body.parameters ?? {});
  if (!parsed.success) {
    throw new ApiError('validation_error', `Invalid parameters for ${algorithm}`, {
      details: parsed.error.issues.map((i) => ({ path: ['parameters', ...i.path], code: i.code, message: i.message })),
    });
  }
  return {
    name: body.name,
    algorithm,
    recommendationType: body.recommendation_type ?? algorithm,
    parameters: parsed.data as Record<string, unknown>,
  };
}

/** Profile size (distinct items) the first popularity read allows for; larger ones read again. */
const TYPICAL_PROFILE = 50;

export const recommendationModelRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models',
        operationId: 'createRecModel',
        tags,
        summary: 'Create a recommendation model (untrained)',
        request: { body: jsonBody(ModelBody) },
        responses: { 201: jsonResponse(ModelSchema, 'Created'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => c.json(modelView(await createModel(c.var.db, c.var.principal.userId, resolveModel(c.req.valid('json')))), 201),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models',
        operationId: 'listRecModels',
        tags,
        summary: 'Your models, newest first (every model for an admin)',
        request: { query: PageQuery },
        responses: { 200: jsonResponse(pageOf(ModelSchema, 'RecModelPage'), 'Page'), ...errorResponses('validation_error', 'bad_request') },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(toPage(await listModels(c.var.db, c.var.principal, q.limit, decodeCursor(q.cursor)), q.limit, modelView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/models/{model_id}',
        operationId: 'getRecModel',
        tags,
        summary: 'One model',
        request: { params: ModelParam },
        responses: { 200: jsonResponse(ModelSchema, 'The model'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => c.json(modelView(await modelFor(c.var.db, c.var.principal, c.req.valid('param').model_id)), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models/{model_id}/train',
        operationId: 'trainRecModel',
        tags,
        summary: "Train on the owner's stored interactions and items; stores a new version",
        request: { params: ModelParam },
        responses: { 200: jsonResponse(ModelSchema, 'Trained'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const model = await modelFor(db, c.var.principal, c.req.valid('param').model_id);
      // Stamped before reading: an item changed while training runs counts as fresh afterwards.
      const trainedAt = Date.now();
      const withDocs = needsDocs(model.algorithm, model.parameters);
      const [rows, docs] = await Promise.all([trainingRows(db, model.ownerId), withDocs ? itemDocs(db, model.ownerId) : new Map()]);
      if (withDocs && docs.size === 0) throw new ApiError('conflict', 'No item features or content stored yet; POST /items/features first');
      if (model.algorithm !== 'content_based' && rows.length === 0)
        throw new ApiError('conflict', 'No interactions stored yet; POST /interactions first');
      const artefact = train(model.algorithm, model.parameters, { rows, docs });
      const summary = {
        interactions: rows.length,
        users: new Set(rows.map((r) => r.userKey)).size,
        items: new Set(rows.map((r) => r.itemKey)).size,
        item_documents: docs.size,
      };
      return c.json(modelView(await saveVersion(db, model, artefact, trainedAt, summary)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/models/{model_id}/evaluate',
        operationId: 'evaluateRecModel',
        tags,
        summary: 'Precision, recall and NDCG at k on a seeded per-user held-out split, against popularity',
        request: { params: ModelParam, body: jsonBody(EvaluateBody) },
        responses: { 200: jsonResponse(EvaluationSchema, 'Figures'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const model = await modelFor(db, c.var.principal, c.req.valid('param').model_id);
      const options = c.req.valid('json');
      const withDocs = needsDocs(model.algorithm, model.parameters);
      const [rows, docs] = await Promise.all([trainingRows(db, model.ownerId), withDocs ? itemDocs(db, model.ownerId) : new Map()]);
      const result = evaluate(model.algorithm, model.parameters, rows, docs, options);
      if (result.users_evaluated === 0)
        throw new ApiError('conflict', `No user has ${options.min_user_items} or more distinct items to hold some out`);
      return c.json({ model_id: publicModelId(model.id), algorithm: model.algorithm, ...result }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'post',
        path: '/recommendations',
        operationId: 'recommendItems',
        tags,
        summary: 'Top-n items for a user, each with a score and a reason',
        request: { body: jsonBody(RecommendBody) },
        responses: {
          200: jsonResponse(RecommendationSchema, 'Recommendations'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const body = c.req.valid('json');
      const model = await modelFor(db, c.var.principal, body.model_id);
      const artefact = await loadArtefact(db, model);
      const owner = model.ownerId;
      const n = body.num_recommendations;
      const liked = (body.liked_items ?? []).map((itemKey) => ({ itemKey, weight: INTERACTION_WEIGHTS.like }));
      // Read live at request time: a new interaction is excluded and counted at once. Popularity
      // is read alongside the user's rows, before the profile is known, deep enough for a profile
      // of TYPICAL_PROFILE items beyond liked_items; a larger profile reads deeper below.
      const assumed = liked.length + TYPICAL_PROFILE;
      const guess = Math.min(MAX_POPULAR, popularityNeeded(artefact, n, body.exclude_interacted ? assumed : 0, assumed));
      const [[mine, popular], fresh] = await Promise.all([
        userRowsAndPopularity(db, owner, body.user_id, guess),
        needsDocs(model.algorithm, model.parameters) ? itemDocs(db, owner, model.trainedAt ?? 0) : Promise.resolve(new Map()),
      ]);
      const profile = profileOf([...mine, ...liked]);
      const exclude: Set<string> = body.exclude_interacted ? new Set(profile.keys()) : new Set();
      const needed = Math.min(MAX_POPULAR, popularityNeeded(artefact, n, exclude.size, profile.size));
      const ctx: UserContext = {
        userKey: body.user_id ?? null,
        profile,
        exclude,
        // Fewer rows than asked for means the first read already had every popular item.
        popularity: needed > guess && popular.size === guess ? await popularity(db, owner, needed) : popular,
        freshItems: fresh,
        preferred: body.features ?? null,
      };
      let result = recommend(artefact, model.parameters, ctx, n);
      // Cold start: the model knew nothing of this user, but the request says what they like.
      if (result.strategy === 'popularity_fallback' && (liked.length > 0 || body.features) && artefact.kind !== 'content_based') {
        const docs = await itemDocs(db, owner);
        if (docs.size > 0)
          result = recommend(artefact, model.parameters, ctx, n, trainContent(docs, PARAMETER_SCHEMAS.content_based.parse({}).max_terms));
      }
      return c.json(
        {
          user_id: body.user_id ?? null,
          model_id: publicModelId(model.id),
          model_version: model.version,
          strategy: result.strategy,
          recommendations: result.items.map((s) => ({
            item_id: s.item,
            score: Math.round(s.score * 1e4) / 1e4,
            reason: s.reason,
            source: s.source,
          })),
        },
        200,
      );
    },
  );
