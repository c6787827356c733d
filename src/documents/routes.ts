import { createRoute, z } from '@hono/zod-openapi';
import { desc, and, eq } from 'drizzle-orm';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { documents } from '../db/schema';
import { ApiError, invalidField } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, pageOf, toPage } from '../lib/pagination';
import { continueDocument } from './continue';
import { createDocument, editDocument, getDocument, getVersion, listDocuments, listVersions } from './queries';
import { toIso } from '../lib/time';
import { requestMeta } from '../lib/context';
import { ownedRun, RunParams } from '../runs';
import {
  ContinueBody,
  CreateDocumentBody,
  DiffQuery,
  DiffSchema,
  DocumentSchema,
  DocumentSummary,
  DocumentUploadForm,
  EditBody,
  ListQuery,
  VersionParams,
  VersionSchema,
} from './schemas';
import { diffStats, redlineHtml, wordDiff } from './diff';
import { readUpload, uploadTitle } from './uploads';
import { documentSummary, publicDocument } from './views';

const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;
const write = { roles: WRITERS, scope: 'documents:write' } as const;
const tags = ['documents'];

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
      withAccess(write, {
        method: 'post',
        path: '/',
        operationId: 'createDocument',
        tags,
        summary: 'Create a document from Markdown, or from an uploaded file converted to Markdown',
        description:
          'JSON `{title, content}` stores the Markdown as given. A multipart form with `file` (PDF, DOCX, HTML, Markdown or UTF-8 text) converts the file to Markdown first: PDF text layer only, DOCX and HTML with their headings, lists, emphasis and links.',
        request: {
          body: {
            required: false,
            content: { 'application/json': { schema: CreateDocumentBody }, 'multipart/form-data': { schema: DocumentUploadForm } },
          },
        },
        responses: {
          201: jsonResponse(DocumentSchema, 'The new document (version 1)'),
          ...errorResponses('validation_error', 'bad_request', 'payload_too_large', 'unsupported_media_type', 'service_unavailable'),
        },
      }),
    ),
    async (c) => {
      const ownerId = c.var.principal.userId;
      if (/^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
        const form = c.req.valid('form');
        // Both media types' schemas type the validated body; the content type says which one ran.
        if (!('file' in form)) throw invalidField(['file'], 'a file is required');
        const upload = await readUpload(c.env, form.file);
        const doc = await createDocument(c.var.db, requestMeta(c), {
          ownerId,
          title: uploadTitle(upload, form.title),
          content: upload.markdown,
          metadata: {
            source: 'upload',
            filename: upload.filename,
            media_type: upload.mediaType,
            format: upload.format,
            bytes: upload.bytes,
          },
        });
        return c.json(publicDocument(doc), 201);
      }
      // Without a content type the validators let an empty body through: it is still a missing body.
      if (!c.req.header('content-type')) throw invalidField([], 'a JSON body {title, content} or a multipart form with a file is required');
      const body = c.req.valid('json');
      if (!('content' in body)) throw invalidField(['content'], 'content is required');
      const doc = await createDocument(c.var.db, requestMeta(c), {
        ownerId,
        title: body.title,
        content: body.content,
        metadata: { ...body.metadata, source: 'text' },
      });
      return c.json(publicDocument(doc), 201);
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
        request: { params: VersionParams },
        responses: { 200: jsonResponse(VersionSchema, 'The version'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const doc = await getDocument(c.var.db, c.var.principal.userId, p.id);
      const v = doc ? await getVersion(c.var.db, doc.id, p.version) : undefined;
      if (!v) throw new ApiError('not_found', 'Document version not found');
      return c.json(
        { version: v.version, title: v.title, content: v.content, created_by: v.createdBy, created_at: toIso(v.createdAt) },
        200,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/diff',
        operationId: 'diffDocumentVersions',
        tags,
        summary: 'What changed between two versions: a word-level diff as hunks and as HTML with <ins>/<del>',
        request: { params: IdParam, query: DiffQuery },
        responses: { 200: jsonResponse(DiffSchema, 'The diff'), ...errorResponses('validation_error', 'bad_request', 'not_found') },
      }),
    ),
    async (c) => {
      const doc = await getDocument(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!doc) throw new ApiError('not_found', 'Document not found');
      const q = c.req.valid('query');
      const toVersion = q.to ?? doc.version;
      const fromVersion = q.from ?? Math.max(1, toVersion - 1);
      const [from, to] = await Promise.all([getVersion(c.var.db, doc.id, fromVersion), getVersion(c.var.db, doc.id, toVersion)]);
      if (!from || !to) throw new ApiError('not_found', `Document version ${from ? toVersion : fromVersion} not found`);
      const { changes, hunks } = wordDiff(from.content, to.content);
      return c.json(
        {
          document_id: doc.id,
          from: { version: from.version, title: from.title },
          to: { version: to.version, title: to.title },
          title_changed: from.title !== to.title,
          stats: { hunks: hunks.length, ...diffStats(changes) },
          hunks,
          changes,
          html: redlineHtml(changes),
        },
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
