import { createRoute } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { publishEvents } from '../lib/events';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { createWorkflow, deleteWorkflow, getWorkflow, listWorkflows, publicWorkflow, updateWorkflow, workflowSummary } from './queries';
import { WorkflowCreateBody, WorkflowPatchBody, WorkflowSchema, WorkflowSummarySchema } from './schemas';
import { requestMeta } from '../lib/context';

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
      const row = await createWorkflow(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('json'));
      c.executionCtx.waitUntil(publishEvents(c.env));
      return c.json(publicWorkflow(row), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listWorkflows',
        tags,
        summary: 'List your workflows, newest first',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(WorkflowSummarySchema, 'WorkflowPage'), 'A page of workflows'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listWorkflows(c.var.db, c.var.principal.userId, limit, decodeCursor(cursor));
      return c.json(toPage(rows, limit, workflowSummary), 200);
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
      return c.json(publicWorkflow(row), 200);
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
        request: { params: IdParam, body: jsonBody(WorkflowCreateBody) },
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
      return c.json(publicWorkflow(row), 200);
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
      return c.json(publicWorkflow(row), 200);
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
