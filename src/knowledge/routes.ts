import { createRoute } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { knowledgeBases } from '../db/schema';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { auditInsert } from '../lib/audit';
import { requestMeta } from '../lib/context';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, toPage } from '../lib/pagination';
import { removeSources } from './ingest';
import { createBase, listBases, ownedBase, sourceCount, updateBase } from './queries';
import {
  BaseParams,
  CreateBaseBody,
  KnowledgeBasePage,
  KnowledgeBaseSchema,
  SearchQuery,
  SearchResultSchema,
  UpdateBaseBody,
} from './schemas';
import { searchBase } from './search';
import { knowledgeBackend } from './vector-index';
import { publicBase } from './views';

// Knowledge bases are made of the user's documents and files: the documents scopes cover them.
const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;
const write = { roles: WRITERS, scope: 'documents:write' } as const;
const tags = ['knowledge-bases'];

export const knowledgeRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/',
        operationId: 'createKnowledgeBase',
        tags,
        summary: 'Create a knowledge base',
        request: { body: jsonBody(CreateBaseBody) },
        responses: {
          201: jsonResponse(KnowledgeBaseSchema, 'The new, empty base'),
          ...errorResponses('validation_error', 'service_unavailable'),
        },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const { embedder } = knowledgeBackend(c.env);
      const base = await createBase(c.var.db, requestMeta(c), {
        ownerId: c.var.principal.userId,
        name: body.name,
        description: body.description ?? null,
        embedding: embedder.id,
      });
      return c.json(publicBase(base, 0), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listKnowledgeBases',
        tags,
        summary: 'Your knowledge bases, newest first',
        request: { query: PageQuery },
        responses: { 200: jsonResponse(KnowledgeBasePage, 'A page of bases'), ...errorResponses('validation_error', 'bad_request') },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listBases(c.var.db, c.var.principal.userId, q.limit, decodeCursor(q.cursor));
      return c.json(
        toPage(
          rows.map((r) => ({ ...r, id: r.base.id })),
          q.limit,
          (r) => publicBase(r.base, r.sources),
        ),
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}',
        operationId: 'getKnowledgeBase',
        tags,
        summary: 'A knowledge base',
        request: { params: BaseParams },
        responses: { 200: jsonResponse(KnowledgeBaseSchema, 'The base'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const base = await ownedBase(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      return c.json(publicBase(base, await sourceCount(c.var.db, base.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'patch',
        path: '/{id}',
        operationId: 'updateKnowledgeBase',
        tags,
        summary: 'Rename a knowledge base or change its description',
        request: { params: BaseParams, body: jsonBody(UpdateBaseBody) },
        responses: { 200: jsonResponse(KnowledgeBaseSchema, 'The base'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const base = await ownedBase(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const updated = await updateBase(c.var.db, requestMeta(c), base, c.req.valid('json'));
      return c.json(publicBase(updated, await sourceCount(c.var.db, base.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/{id}',
        operationId: 'deleteKnowledgeBase',
        tags,
        summary: 'Delete a knowledge base with its sources, chunks and vectors',
        request: { params: BaseParams },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const base = await ownedBase(db, c.var.principal.userId, c.req.valid('param').id);
      await removeSources(c.env, db, { baseId: base.id }, [
        db.delete(knowledgeBases).where(and(eq(knowledgeBases.id, base.id), eq(knowledgeBases.ownerId, base.ownerId))),
        auditInsert(db, requestMeta(c), { action: 'knowledge_base.delete', targetType: 'knowledge_base', targetId: base.id }),
      ]);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/search',
        operationId: 'searchKnowledgeBase',
        tags,
        summary: 'Search a knowledge base: semantic, keyword (FTS5) or both (hybrid, the default)',
        request: { params: BaseParams, query: SearchQuery },
        responses: {
          200: jsonResponse(SearchResultSchema, 'Passages, best first'),
          ...errorResponses('validation_error', 'not_found', 'conflict', 'service_unavailable'),
        },
      }),
    ),
    async (c) => {
      const base = await ownedBase(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const q = c.req.valid('query');
      const items = await searchBase(c.env, c.var.db, base, q.q, { topK: q.top_k, mode: q.mode, minScore: q.min_score });
      return c.json({ knowledge_base_id: base.id, query: q.q, mode: q.mode, embedding: base.embedding, items }, 200);
    },
  );
