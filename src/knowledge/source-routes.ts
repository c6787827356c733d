import { createRoute } from '@hono/zod-openapi';
import { getDocument, readUpload, uploadTitle } from '../documents';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { auditInsert } from '../lib/audit';
import { requestMeta } from '../lib/context';
import { ApiError, invalidField } from '../lib/errors';
import { createRouter, errorResponses, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, toPage } from '../lib/pagination';
import { addSource, removeSources } from './ingest';
import { chunksWithSources, listSources, ownedBase, ownedSource, sourceChunks } from './queries';
import {
  AddSourceBody,
  BaseParams,
  ChunkParams,
  ChunkSchema,
  SourceDetailSchema,
  SourcePage,
  SourceParams,
  SourceSchema,
  SourceUploadForm,
} from './schemas';
import { publicChunk, publicSource } from './views';

// Knowledge bases are made of the user's documents and files: the documents scopes cover them.
const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;
const write = { roles: WRITERS, scope: 'documents:write' } as const;
const tags = ['knowledge-bases'];

/** A base's sources and their chunks, under `/api/v3/knowledge-bases/{id}`. */
export const knowledgeSourceRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/sources',
        operationId: 'addKnowledgeSource',
        tags,
        summary: 'Add a source: text or Markdown, one of your documents, or an uploaded file',
        description:
          'JSON `{title, content}` adds text; JSON `{document_id}` adds the current version of one of your documents (a snapshot: later edits are not followed); a multipart form with `file` (PDF, DOCX, HTML, Markdown or UTF-8 text) converts the file to Markdown first. The source is chunked with overlap, embedded and indexed before the answer.',
        request: {
          params: BaseParams,
          body: {
            required: false,
            content: { 'application/json': { schema: AddSourceBody }, 'multipart/form-data': { schema: SourceUploadForm } },
          },
        },
        responses: {
          201: jsonResponse(SourceSchema, 'The indexed source'),
          ...errorResponses(
            'validation_error',
            'bad_request',
            'not_found',
            'conflict',
            'payload_too_large',
            'unsupported_media_type',
            'service_unavailable',
          ),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const ownerId = c.var.principal.userId;
      const base = await ownedBase(db, ownerId, c.req.valid('param').id);
      const meta = requestMeta(c);
      if (/^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
        const form = c.req.valid('form');
        // Both media types' schemas type the validated body; the content type says which one ran.
        if (!('file' in form)) throw invalidField(['file'], 'a file is required');
        const upload = await readUpload(c.env, form.file);
        const source = await addSource(c.env, db, meta, base, {
          kind: 'upload',
          title: uploadTitle(upload, form.title),
          content: upload.markdown,
          filename: upload.filename,
          mediaType: upload.mediaType || upload.format,
          bytes: upload.bytes,
        });
        return c.json(publicSource(source), 201);
      }
      if (!c.req.header('content-type')) throw invalidField([], 'a JSON body or a multipart form with a file is required');
      const body = c.req.valid('json');
      if ('document_id' in body) {
        const doc = await getDocument(db, ownerId, body.document_id);
        if (!doc) throw new ApiError('not_found', 'Document not found');
        const source = await addSource(c.env, db, meta, base, {
          kind: 'document',
          title: body.title ?? doc.title,
          content: doc.content,
          documentId: doc.id,
          documentVersion: doc.version,
        });
        return c.json(publicSource(source), 201);
      }
      if (!('content' in body)) throw invalidField(['content'], 'content or document_id is required');
      const source = await addSource(c.env, db, meta, base, { kind: 'text', title: body.title, content: body.content });
      return c.json(publicSource(source), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/sources',
        operationId: 'listKnowledgeSources',
        tags,
        summary: "A knowledge base's sources, newest first",
        request: { params: BaseParams, query: PageQuery },
        responses: {
          200: jsonResponse(SourcePage, 'A page of sources'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const base = await ownedBase(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      const q = c.req.valid('query');
      return c.json(toPage(await listSources(c.var.db, base.id, q.limit, decodeCursor(q.cursor)), q.limit, publicSource), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/sources/{sourceId}',
        operationId: 'getKnowledgeSource',
        tags,
        summary: 'A source with its text and its chunks',
        request: { params: SourceParams },
        responses: { 200: jsonResponse(SourceDetailSchema, 'The source'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const source = await ownedSource(c.var.db, c.var.principal.userId, p.id, p.sourceId);
      const chunks = (await sourceChunks(c.var.db, source.id)).map((ch) => publicChunk(ch, source));
      return c.json({ ...publicSource(source), content: source.content, chunks }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/{id}/sources/{sourceId}',
        operationId: 'deleteKnowledgeSource',
        tags,
        summary: 'Delete a source with its chunks and vectors',
        request: { params: SourceParams },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const db = c.var.db;
      const source = await ownedSource(db, c.var.principal.userId, p.id, p.sourceId);
      await removeSources(c.env, db, { sourceId: source.id }, [
        auditInsert(db, requestMeta(c), {
          action: 'knowledge_source.delete',
          targetType: 'knowledge_base',
          targetId: source.baseId,
          details: { source_id: source.id },
        }),
      ]);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/chunks/{chunkId}',
        operationId: 'getKnowledgeChunk',
        tags,
        summary: 'One passage, as cited by a generated document',
        request: { params: ChunkParams },
        responses: { 200: jsonResponse(ChunkSchema, 'The chunk'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const [row] = await chunksWithSources(c.var.db, c.var.principal.userId, [p.chunkId]);
      if (!row || row.chunk.baseId !== p.id) throw new ApiError('not_found', 'Chunk not found');
      return c.json(publicChunk(row.chunk, row), 200);
    },
  );
