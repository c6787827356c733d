import { createRoute } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { exportJobs, workflows } from '../db/schema';
import { ANY_ROLE } from '../lib/access';
import { requestMeta } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonResponse, withAccess } from '../lib/openapi';
import { ownedRun, RunParams } from '../runs';
import { type ExportOutcome, jobView, ownedJob, startExport } from './jobs';
import { verifyLink } from './links';
import { ExportJobSchema, FileLinkQuery, fileContent, FormatQuery, RunExportQuery } from './schemas';

// Exporting reads documents: the documents:read scope covers it, as it covers reading them as JSON.
const read = { roles: ANY_ROLE, scope: 'documents:read' } as const;
const tags = ['exports'];

const attachment = (filename: string) => `attachment; filename="${filename}"`;

const fileResponses = {
  200: { description: 'The file', content: fileContent },
  202: jsonResponse(ExportJobSchema, 'Too large for this request: a background export, to fetch from its download_url once ready'),
};

async function answer(env: Env, outcome: ExportOutcome): Promise<Response> {
  if (outcome.kind === 'inline')
    return new Response(outcome.rendered.body, {
      status: 200,
      headers: { 'content-type': outcome.rendered.contentType, 'content-disposition': attachment(outcome.filename) },
    });
  const view = await jobView(env, { job: outcome.job, taskStatus: null, taskError: null });
  return Response.json(view, { status: 202, headers: { location: `/api/v3/exports/${outcome.job.id}` } });
}

/** `GET /api/v3/documents/{id}/export`. */
export const documentExportRoutes = createRouter().openapi(
  createRoute(
    withAccess(read, {
      method: 'get',
      path: '/{id}/export',
      operationId: 'exportDocument',
      tags: ['documents', ...tags],
      summary: 'A document as Markdown, HTML, PDF or DOCX',
      request: { params: IdParam, query: FormatQuery },
      responses: { ...fileResponses, ...errorResponses('validation_error', 'not_found', 'service_unavailable') },
    }),
  ),
  async (c) => {
    const q = c.req.valid('query');
    const target = { scope: 'document', documentId: c.req.valid('param').id } as const;
    return answer(c.env, await startExport(c.env, c.var.db, requestMeta(c), c.var.principal.userId, target, q.format, q.delivery));
  },
);

/** `GET /api/v3/workflows/{id}/runs/{runId}/export`: reads the run's documents from D1, not from its object. */
export const runExportRoutes = createRouter().openapi(
  createRoute(
    withAccess(read, {
      method: 'get',
      path: '/{id}/runs/{runId}/export',
      operationId: 'exportRun',
      tags: ['runs', ...tags],
      summary: "A run's final document, or all its documents in order, as Markdown, HTML, PDF or DOCX",
      request: { params: RunParams, query: RunExportQuery },
      responses: { ...fileResponses, ...errorResponses('validation_error', 'not_found', 'conflict', 'service_unavailable') },
    }),
  ),
  async (c) => {
    const p = c.req.valid('param');
    const q = c.req.valid('query');
    const ownerId = c.var.principal.userId;
    await ownedRun(c.var.db, ownerId, p.id, p.runId);
    const wf = await c.var.db.select({ name: workflows.name }).from(workflows).where(eq(workflows.id, p.id)).get();
    const target = {
      scope: q.documents === 'all' ? 'run_all' : 'run_final',
      workflowId: p.id,
      runId: p.runId,
      runTitle: `${wf?.name ?? 'Workflow'} — run ${p.runId}`,
    } as const;
    return answer(c.env, await startExport(c.env, c.var.db, requestMeta(c), ownerId, target, q.format, q.delivery));
  },
);

/** `/api/v3/exports/{id}`: background exports, their files and signed links. */
export const exportRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}',
        operationId: 'getExport',
        tags,
        summary: 'A background export: its status, and once ready its download links',
        request: { params: IdParam },
        responses: { 200: jsonResponse(ExportJobSchema, 'The export'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const row = await ownedJob(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!row) throw new ApiError('not_found', 'Export not found');
      return c.json(await jobView(c.env, row), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/download',
        operationId: 'downloadExport',
        tags,
        summary: "A ready export's file",
        request: { params: IdParam },
        responses: {
          200: { description: 'The file', content: fileContent },
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const row = await ownedJob(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!row) throw new ApiError('not_found', 'Export not found');
      return fileOf(c.env, row.job);
    },
  )
  .openapi(
    // Public on purpose: the signature is the credential (links.ts). Listed with the other open
    // operations in test/integration/authz-matrix.test.ts.
    createRoute({
      method: 'get',
      path: '/{id}/file',
      operationId: 'downloadExportBySignedLink',
      tags,
      summary: "A ready export's file through a signed link (no credentials; valid 15 minutes)",
      security: [],
      request: { params: IdParam, query: FileLinkQuery },
      responses: { 200: { description: 'The file', content: fileContent }, ...errorResponses('validation_error', 'not_found', 'conflict') },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      const q = c.req.valid('query');
      // A bad or expired signature is a 404, like an export that does not exist: the link proves nothing either way.
      if (!(await verifyLink(c.env, id, q.expires, q.signature)))
        throw new ApiError('not_found', 'Export not found, or the link has expired');
      const job = await c.var.db.select().from(exportJobs).where(eq(exportJobs.id, id)).get();
      if (!job) throw new ApiError('not_found', 'Export not found, or the link has expired');
      return fileOf(c.env, job);
    },
  );

async function fileOf(env: Env, job: { status: string; objectKey: string | null; filename: string }): Promise<Response> {
  if (job.status !== 'ready' || !job.objectKey)
    throw new ApiError('conflict', 'This export is not ready yet; poll GET /api/v3/exports/{id}');
  const object = await env.EXPORTS.get(job.objectKey);
  if (!object) throw new ApiError('not_found', 'The export file is no longer stored');
  return new Response(object.body, {
    status: 200,
    headers: {
      'content-type': object.httpMetadata?.contentType ?? 'application/octet-stream',
      'content-disposition': attachment(job.filename),
      'content-length': String(object.size),
      // A file behind credentials or a signed link: no shared cache may keep it.
      'cache-control': 'private, no-store',
    },
  });
}
