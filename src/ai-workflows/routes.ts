import { createRoute, z } from '@hono/zod-openapi';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import {
  aiWorkflowStats,
  buildNodes,
  createAiWorkflow,
  getAiWorkflow,
  listAiWorkflows,
  publicAiWorkflow,
  publicId,
  runCounts,
} from './queries';
import {
  AiExecutionSchema,
  AiWorkflowCreateBody,
  AiWorkflowDetailSchema,
  AiWorkflowParam,
  AiWorkflowSchema,
  StatsSchema,
  TemplateSchema,
} from './schemas';
import { paramsSchema, TEMPLATES } from './templates';
import type { WorkflowNode } from '../engine';
import { requestMeta } from '../lib/context';
import { workflowForRun } from '../workflows';
import { launchRun, runStub, IdempotencyHeader, publicRun } from '../runs';

// The same access as the workflows they are: an AI workflow is one.
const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;
const write = { roles: WRITERS, scope: 'workflows:write' } as const;
const tags = ['ai-workflows'];

// Fixed paths (/templates, /stats) are registered before /{id}; the id pattern would refuse them anyway.
export const aiWorkflowRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/templates',
        operationId: 'listAiWorkflowTemplates',
        tags,
        summary: 'The built-in AI workflow templates, their parameters and the nodes they build',
        responses: { 200: jsonResponse(z.object({ items: z.array(TemplateSchema) }).openapi('AiWorkflowTemplateList'), 'Templates') },
      }),
    ),
    (c) =>
      c.json(
        {
          items: TEMPLATES.map((t) => ({
            name: t.name,
            workflow_type: t.workflow_type,
            description: t.description,
            requires_language_model: t.requires_language_model ?? false,
            parameters: t.parameters,
            example_input: t.example,
            nodes: buildNodes(t, paramsSchema(t).parse(t.example)),
          })),
        },
        200,
      ),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/stats',
        operationId: 'aiWorkflowStats',
        tags,
        summary: 'Your AI workflows and their runs, counted per template and provider',
        responses: { 200: jsonResponse(StatsSchema, 'Counts') },
      }),
    ),
    async (c) => c.json(await aiWorkflowStats(c.var.db, c.var.principal.userId), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/',
        operationId: 'createAiWorkflow',
        tags,
        summary: 'Create a workflow from a built-in template',
        request: { body: jsonBody(AiWorkflowCreateBody) },
        responses: { 201: jsonResponse(AiWorkflowSchema, 'Created'), ...errorResponses('validation_error', 'unsupported_by_provider') },
      }),
    ),
    async (c) => {
      const row = await createAiWorkflow(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('json'));
      return c.json(publicAiWorkflow(row), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listAiWorkflows',
        tags,
        summary: 'Your AI workflows, newest first',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(AiWorkflowSchema, 'AiWorkflowPage'), 'A page'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listAiWorkflows(c.var.db, c.var.principal.userId, limit, decodeCursor(cursor));
      return c.json(toPage(rows, limit, publicAiWorkflow), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}',
        operationId: 'getAiWorkflow',
        tags,
        summary: 'An AI workflow: its nodes, stored input and run counts',
        request: { params: AiWorkflowParam },
        responses: { 200: jsonResponse(AiWorkflowDetailSchema, 'The AI workflow'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const ownerId = c.var.principal.userId;
      const row = await getAiWorkflow(c.var.db, ownerId, c.req.valid('param').id);
      if (!row) throw new ApiError('not_found', 'AI workflow not found');
      const runs = await runCounts(c.var.db, ownerId, row.wf.id);
      return c.json({ ...publicAiWorkflow(row), nodes: row.wf.nodes as WorkflowNode[], runs }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/execute',
        operationId: 'executeAiWorkflow',
        tags,
        summary: 'Start a run with the stored input_data (no body)',
        description:
          'The run is an ordinary run: follow it at `/api/v3/workflows/{workflow_id}/runs/{id}`, approve its approval nodes there.',
        request: { params: AiWorkflowParam, headers: IdempotencyHeader },
        responses: {
          201: jsonResponse(AiExecutionSchema, 'Run started'),
          200: jsonResponse(AiExecutionSchema, 'The run this Idempotency-Key already started'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const ownerId = c.var.principal.userId;
      const row = await getAiWorkflow(db, ownerId, c.req.valid('param').id);
      if (!row) throw new ApiError('not_found', 'AI workflow not found');
      const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
      const workflow = await workflowForRun({ env: c.env, waitUntil }, db, ownerId, row.wf.id);
      if (!workflow) throw new ApiError('not_found', 'AI workflow not found');
      const { runId, created } = await launchRun(c.env, db, requestMeta(c), {
        workflow,
        ownerId,
        input: row.ai.inputData,
        idempotencyKey: c.req.valid('header')['idempotency-key'],
        waitUntil,
      });
      const run = { ...(await publicRun(db, await runStub(c.env, runId).view())), ai_workflow_id: publicId(row.ai.id) };
      return created ? c.json(run, 201) : c.json(run, 200);
    },
  );
