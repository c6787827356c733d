import { createRoute } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { requestMeta } from '../lib/context';
import { publishEvents } from '../lib/events';
import { createRouter, errorResponses, IdParam, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, encodeCursor, PageQuery, pageOf } from '../lib/pagination';
import { publicWorkflow } from './queries';
import { tagsOf } from './tags';
import { DiffQuery, VersionDiffSchema, VersionParams, VersionSchema, VersionSummarySchema, WorkflowSchema } from './schemas';
import { diffVersions, getVersion, listVersions, publicVersion, rollbackWorkflow, versionSummary } from './versions';

const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;
const write = { roles: WRITERS, scope: 'workflows:write' } as const;
const tags = ['workflows'];

/** A workflow's versions: list, read, compare, restore. Mounted under /api/v3/workflows. */
export const workflowVersionRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/versions',
        operationId: 'listWorkflowVersions',
        tags,
        summary: "A workflow's versions, newest first, with the number of runs pinned to each",
        request: { params: IdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(VersionSummarySchema, 'WorkflowVersionPage'), 'A page of versions'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const { workflow, rows } = await listVersions(c.var.db, c.var.principal.userId, c.req.valid('param').id, limit, decodeCursor(cursor));
      const items = rows.slice(0, limit);
      // The cursor is the last version number shown: versions are immutable and dense, so the walk is stable.
      const next = rows.length > limit ? encodeCursor(items.at(-1)!.version) : null;
      return c.json({ items: items.map((v) => versionSummary(v, workflow.version)), next_cursor: next }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/versions/{version}',
        operationId: 'getWorkflowVersion',
        tags,
        summary: 'One version of a workflow, as it was saved',
        request: { params: VersionParams },
        responses: { 200: jsonResponse(VersionSchema, 'The version'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const { workflow, row } = await getVersion(c.var.db, c.var.principal.userId, p.id, p.version);
      return c.json(publicVersion(row, workflow.version), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/diff',
        operationId: 'diffWorkflowVersions',
        tags,
        summary: 'Node-level difference between two versions: added, removed and changed nodes, with the fields that changed',
        request: { params: IdParam, query: DiffQuery },
        responses: { 200: jsonResponse(VersionDiffSchema, 'The difference'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await diffVersions(c.var.db, c.var.principal.userId, c.req.valid('param').id, q.from, q.to), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/versions/{version}/rollback',
        operationId: 'rollbackWorkflow',
        tags,
        summary: 'Roll back: save a new version equal to an old one (runs keep the versions they started with)',
        request: { params: VersionParams },
        responses: {
          200: jsonResponse(WorkflowSchema, 'The workflow at its new version'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const row = await rollbackWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, p.id, p.version);
      c.executionCtx.waitUntil(publishEvents(c.env));
      return c.json(publicWorkflow(row, (await tagsOf(c.var.db, [row.id])).get(row.id)), 200);
    },
  );
