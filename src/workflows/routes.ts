import { createRoute } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { publishEvents } from '../lib/events';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { pageOf } from '../lib/pagination';
import { invalidField } from '../lib/errors';
import { NODE_TYPES } from '../engine';
import { createWorkflow, deleteWorkflow, getWorkflow, publicWorkflow, updateWorkflow, workflowSummary } from './queries';
import {
  WorkflowCreateBody,
  WorkflowListQuery,
  WorkflowPatchBody,
  WorkflowReplaceBody,
  WorkflowSchema,
  WorkflowSummarySchema,
} from './schemas';
import { searchWorkflows } from './search';
import { Tag, tagsOf } from './tags';
import { requestMeta } from '../lib/context';

/** Splits a comma list and checks each entry; the first bad one is a 400 naming it. */
function listParam(value: string | undefined, name: string, valid: (v: string) => boolean): string[] | undefined {
  const items = value?.split(',');
  const bad = items?.find((v) => !valid(v));
  if (bad !== undefined) throw invalidField([name], `"${bad.slice(0, 60)}" is not a valid ${name}`);
  return items;
}

const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;
const write = { roles: WRITERS, scope: 'workflows:write' } as const;
const tags = ['workflows'];

export const workflowRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/',
        operationId: 'createWorkflow',
        tags,
        summary: 'Create a workflow definition',
        request: { body: jsonBody(WorkflowCreateBody) },
        responses: { 201: jsonResponse(WorkflowSchema, 'Created (version 1)'), ...errorResponses('validation_error') },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const row = await createWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, body);
      c.executionCtx.waitUntil(publishEvents(c.env));
      return c.json(publicWorkflow(row, [...new Set(body.tags ?? [])].sort()), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listWorkflows',
        tags,
        summary: 'List and search your workflows: text, tags, node types, dates, last run status; sorted, keyset-paginated',
        request: { query: WorkflowListQuery },
        responses: {
          200: jsonResponse(pageOf(WorkflowSummarySchema, 'WorkflowPage'), 'A page of workflows'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const filter = {
        q: q.q,
        tags: listParam(q.tag, 'tag', (t) => Tag.safeParse(t).success),
        nodeTypes: listParam(q.node_type, 'node_type', (t) => (NODE_TYPES as readonly string[]).includes(t)),
        createdAfter: q.created_after,
        createdBefore: q.created_before,
        updatedAfter: q.updated_after,
        updatedBefore: q.updated_before,
        lastRunStatus: q.last_run_status,
        archived: q.archived,
        sort: q.sort,
        order: q.order,
      };
      const { items, next } = await searchWorkflows(c.var.db, c.var.principal.userId, filter, q.limit, q.cursor);
      const tags = await tagsOf(
        c.var.db,
        items.map((w) => w.id),
      );
      return c.json({ items: items.map((w) => workflowSummary(w, tags.get(w.id) ?? [])), next_cursor: next }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}',
        operationId: 'getWorkflow',
        tags,
        summary: 'Get a workflow definition',
        request: { params: IdParam },
        responses: { 200: jsonResponse(WorkflowSchema, 'The workflow'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const row = await getWorkflow(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      // Another user's workflow is "not found", never "forbidden": existence is not disclosed.
      if (!row) throw new ApiError('not_found', 'Workflow not found');
      return c.json(publicWorkflow(row, (await tagsOf(c.var.db, [row.id])).get(row.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'put',
        path: '/{id}',
        operationId: 'replaceWorkflow',
        tags,
        summary: 'Replace a workflow definition (creates a new version)',
        request: { params: IdParam, body: jsonBody(WorkflowReplaceBody) },
        responses: { 200: jsonResponse(WorkflowSchema, 'Updated'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const row = await updateWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, () => ({
        ...body,
        description: body.description ?? null,
      }));
      c.executionCtx.waitUntil(publishEvents(c.env));
      return c.json(publicWorkflow(row, (await tagsOf(c.var.db, [row.id])).get(row.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'patch',
        path: '/{id}',
        operationId: 'updateWorkflow',
        tags,
        summary: 'Change some fields of a workflow (creates a new version)',
        request: { params: IdParam, body: jsonBody(WorkflowPatchBody) },
        responses: { 200: jsonResponse(WorkflowSchema, 'Updated'), ...errorResponses('validation_error', 'not_found', 'conflict') },
      }),
    ),
    async (c) => {
      const patch = c.req.valid('json');
      const row = await updateWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, (current) => ({
        name: patch.name ?? current.name,
        description: patch.description !== undefined ? patch.description : current.description,
        nodes: patch.nodes ?? current.nodes,
        settings: patch.settings ?? current.settings,
      }));
      c.executionCtx.waitUntil(publishEvents(c.env));
      return c.json(publicWorkflow(row, (await tagsOf(c.var.db, [row.id])).get(row.id)), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/{id}',
        operationId: 'deleteWorkflow',
        tags,
        summary: 'Delete a workflow',
        request: { params: IdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      await deleteWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id);
      return c.newResponse(null, 204);
    },
  );
