import { createRoute, z } from '@hono/zod-openapi';
import { desc, and, eq } from 'drizzle-orm';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { documents } from '../db/schema';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { continueDocument } from './continue';
import { documentSummary, editDocument, getDocument, listDocuments, listVersions, publicDocument } from './queries';
import { toIso } from '../lib/time';
import { requestMeta } from '../lib/context';
import { PROVIDERS } from '../ai';
import { ownedRun, RunParams } from '../runs';

const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;
const write = { roles: WRITERS, scope: 'documents:write' } as const;
const tags = ['documents'];

const DocumentSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    content: z.string(),
    kind: z.enum(['node', 'continuation', 'manual']),
    version: z.number().int(),
    workflow_id: z.number().int().nullable(),
    run_id: z.number().int().nullable(),
    node_id: z.string().nullable(),
    parent_id: z.number().int().nullable().openapi({ description: 'The document this one was generated from' }),
    metadata: z.record(z.string(), z.unknown()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Document');
const DocumentSummary = DocumentSchema.omit({ content: true }).extend({ excerpt: z.string() }).openapi('DocumentSummary');
const VersionSchema = z
  .object({
    version: z.number().int(),
    title: z.string(),
    content: z.string(),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
  })
  .openapi('DocumentVersion');

const ListQuery = PageQuery.extend({
  q: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Full-text search over title and content' }),
  run_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'run_id', in: 'query' } }),
  workflow_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'workflow_id', in: 'query' } }),
  parent_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'parent_id', in: 'query' }, description: 'Children of a document' }),
});

const ContinueBody = z
  .strictObject({
    prompt: z
      .string()
      .min(1)
      .max(20_000)
      .optional()
      .openapi({ description: 'Instruction for the next document; written automatically when omitted' }),
    provider: z.enum(PROVIDERS).optional(),
    model: z.string().min(1).max(100).optional(),
    max_tokens: z.number().int().min(1).max(8192).optional(),
  })
  .openapi('ContinueRequest');

const EditBody = z
  .strictObject({ title: z.string().min(1).max(300).optional(), content: z.string().min(1).max(500_000).optional() })
  .refine((b) => b.title !== undefined || b.content !== undefined, { message: 'title or content is required' })
  .openapi('DocumentEditRequest');

const docParam = z.object({
  id: IdParam.shape.id,
  version: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'version', in: 'path' } }),
});

export const documentRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listDocuments',
        tags,
        summary: 'List or search your documents, newest first',
        request: { query: ListQuery },
        responses: {
          200: jsonResponse(pageOf(DocumentSummary, 'DocumentPage'), 'A page of documents'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listDocuments(c.var.db, c.var.principal.userId, q, q.limit, decodeCursor(q.cursor));
      return c.json(toPage(rows, q.limit, documentSummary), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}',
        operationId: 'getDocument',
        tags,
        summary: 'A document (current version)',
        request: { params: IdParam },
        responses: { 200: jsonResponse(DocumentSchema, 'The document'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const doc = await getDocument(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!doc) throw new ApiError('not_found', 'Document not found');
      return c.json(publicDocument(doc), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'patch',
        path: '/{id}',
        operationId: 'editDocument',
        tags,
        summary: 'Edit a document (creates a new version)',
        request: { params: IdParam, body: jsonBody(EditBody) },
        responses: { 200: jsonResponse(DocumentSchema, 'The new version'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const doc = await getDocument(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!doc) throw new ApiError('not_found', 'Document not found');
      const updated = await editDocument(c.var.db, requestMeta(c), doc, c.req.valid('json'));
      return c.json(publicDocument(updated), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/versions',
        operationId: 'listDocumentVersions',
        tags,
        summary: "A document's versions, newest first",
        request: { params: IdParam },
        responses: {
          200: jsonResponse(z.object({ items: z.array(VersionSchema) }), 'Versions'),
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const doc = await getDocument(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!doc) throw new ApiError('not_found', 'Document not found');
      const items = (await listVersions(c.var.db, doc.id)).map((v) => ({
        version: v.version,
        title: v.title,
        content: v.content,
        created_by: v.createdBy,
        created_at: toIso(v.createdAt),
      }));
      return c.json({ items }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/versions/{version}',
        operationId: 'getDocumentVersion',
        tags,
        summary: 'One version of a document',
        request: { params: docParam },
        responses: { 200: jsonResponse(VersionSchema, 'The version'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const doc = await getDocument(c.var.db, c.var.principal.userId, p.id);
      const v = doc ? (await listVersions(c.var.db, doc.id)).find((x) => x.version === p.version) : undefined;
      if (!v) throw new ApiError('not_found', 'Document version not found');
      return c.json(
        { version: v.version, title: v.title, content: v.content, created_by: v.createdBy, created_at: toIso(v.createdAt) },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/continue',
        operationId: 'continueDocument',
        tags,
        summary: 'Generate the next document of the chain from this one',
        request: { params: IdParam, body: jsonBody(ContinueBody) },
        responses: {
          201: jsonResponse(DocumentSchema, 'The new document, a child of this one'),
          ...errorResponses('validation_error', 'not_found', 'service_unavailable'),
        },
      }),
    ),
    async (c) => {
      const doc = await getDocument(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!doc) throw new ApiError('not_found', 'Document not found');
      const next = await continueDocument(c.env, c.var.db, requestMeta(c), doc, c.req.valid('json'));
      return c.json(publicDocument(next), 201);
    },
  );

/** `POST /api/v3/workflows/{id}/runs/{runId}/continue`: continue from the run's latest document. */
export const runContinueRoutes = createRouter().openapi(
  createRoute(
    withAccess(write, {
      method: 'post',
      path: '/{id}/runs/{runId}/continue',
      operationId: 'continueRun',
      tags: ['runs'],
      summary: "Continue a run's chain: generate the next document from its latest one",
      request: { params: RunParams, body: jsonBody(ContinueBody) },
      responses: {
        201: jsonResponse(DocumentSchema, 'The new document'),
        ...errorResponses('validation_error', 'not_found', 'conflict', 'service_unavailable'),
      },
    }),
  ),
  async (c) => {
    const p = c.req.valid('param');
    await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
    const latest = await c.var.db
      .select()
      .from(documents)
      .where(and(eq(documents.runId, p.runId), eq(documents.ownerId, c.var.principal.userId)))
      .orderBy(desc(documents.id))
      .get();
    if (!latest) throw new ApiError('conflict', 'This run has produced no document yet');
    const next = await continueDocument(c.env, c.var.db, requestMeta(c), latest, c.req.valid('json'));
    return c.json(publicDocument(next), 201);
  },
);
