import { createRoute, z } from '@hono/zod-openapi';
import { and, desc, eq, lt } from 'drizzle-orm';
import type { Context } from 'hono';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { runs } from '../db/schema';
import { type AppEnv, requestMeta } from '../lib/context';
import { auditInsert } from '../lib/audit';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { workflowAnalytics } from './analytics';
import { checkedInput, launchRun, ownedRun } from './launch';
import {
  AnalyticsSchema,
  type BudgetBody,
  EventSchema,
  EventsQuery,
  ExecuteBody,
  ForkBody,
  IdempotencyHeader,
  ResumeBody,
  RunParams,
  RunSchema,
  RunSummarySchema,
  SignalBody,
  StartRunBody,
  EstimateSchema,
  StreamQuery,
} from './schemas';
import { publicRun, runSummary } from './views';
import { runStub } from './rpc';
import { getWorkflow, workflowForRun, workflowVersion } from '../workflows';
import type { WorkflowNode, WorkflowSettings } from '../engine';
import { estimateRun } from './estimate';
import { planFork } from './fork';

const read = { roles: ANY_ROLE, scope: 'workflows:read' } as const;
const write = { roles: WRITERS, scope: 'workflows:write' } as const;
const tags = ['runs'];

async function start(
  c: Context<AppEnv>,
  workflowId: number,
  body: { input: Record<string, unknown>; budget?: z.infer<typeof BudgetBody> | undefined },
  idempotencyKey: string | undefined,
) {
  const db = c.var.db;
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  const workflow = await workflowForRun({ env: c.env, waitUntil }, db, c.var.principal.userId, workflowId);
  if (!workflow) throw new ApiError('not_found', 'Workflow not found');
  const { runId, created } = await launchRun(c.env, db, requestMeta(c), {
    workflow,
    ownerId: c.var.principal.userId,
    input: body.input,
    budget: body.budget,
    idempotencyKey,
    waitUntil,
  });
  const run = await publicRun(db, await runStub(c.env, runId).view());
  return { run, created };
}

async function fork(
  c: Context<AppEnv>,
  p: { id: number; runId: number },
  body: z.infer<typeof ForkBody>,
  idempotencyKey: string | undefined,
) {
  const db = c.var.db;
  const ownerId = c.var.principal.userId;
  const waitUntil = (x: Promise<unknown>) => c.executionCtx.waitUntil(x);
  const origin = await ownedRun(db, ownerId, p.id, p.runId);
  const current = await workflowForRun({ env: c.env, waitUntil }, db, ownerId, p.id);
  if (!current) throw new ApiError('not_found', 'Workflow not found');
  const workflow =
    body.version === 'latest'
      ? current
      : {
          id: p.id,
          version: origin.workflowVersion,
          ...(await workflowVersion({ env: c.env, waitUntil }, db, p.id, origin.workflowVersion)),
        };
  const plan = await planFork(c.env, {
    nodes: workflow.nodes as WorkflowNode[],
    fromNode: body.from_node,
    overrides: body.overrides,
    originRunId: p.runId,
  });
  const { runId, created } = await launchRun(c.env, db, requestMeta(c), {
    workflow: { ...workflow, nodes: plan.nodes },
    ownerId,
    input: body.input ?? origin.input,
    idempotencyKey,
    fork: { runId: p.runId, fromNode: body.from_node, overrides: body.overrides, reused: plan.reused },
    budget: body.budget,
    waitUntil,
  });
  return { run: await publicRun(db, await runStub(c.env, runId).view()), created };
}

const startResponses = {
  201: jsonResponse(RunSchema, 'Run started'),
  200: jsonResponse(RunSchema, 'The run this Idempotency-Key already started'),
  ...errorResponses('validation_error', 'not_found', 'conflict'),
};

/** Run control: each is a no-op when the run is not in a state it applies to. */
const control = <A extends 'pause' | 'cancel' | 'retry'>(action: A, summary: string) =>
  createRoute(
    withAccess(write, {
      method: 'post',
      path: `/{id}/runs/{runId}/${action}` as `/{id}/runs/{runId}/${A}`,
      operationId: `${action}Run`,
      tags,
      summary,
      request: { params: RunParams },
      responses: { 200: jsonResponse(RunSchema, 'The run after the action'), ...errorResponses('validation_error', 'not_found') },
    }),
  );

async function controlHandler(c: Context<AppEnv>, params: { id: number; runId: number }, action: 'pause' | 'cancel' | 'retry') {
  await ownedRun(c.var.db, c.var.principal.userId, params.id, params.runId);
  const stub = runStub(c.env, params.runId);
  const view = action === 'cancel' ? await stub.cancel(`cancelled by user ${c.var.principal.userId}`) : await stub[action]();
  return c.json(await publicRun(c.var.db, view), 200);
}

export const runRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/runs/estimate',
        operationId: 'estimateRun',
        tags,
        summary: 'What a run of the current version could cost, before starting it',
        description:
          'An upper bound on model calls, tokens and USD for this input and budget (docs/engine.md, "Costs and budgets"). Starts nothing.',
        request: { params: IdParam, body: jsonBody(StartRunBody) },
        responses: {
          200: jsonResponse(EstimateSchema, 'The estimate'),
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const body = c.req.valid('json');
      const workflow = await getWorkflow(c.var.db, c.var.principal.userId, c.req.valid('param').id);
      if (!workflow) throw new ApiError('not_found', 'Workflow not found');
      const nodes = workflow.nodes as WorkflowNode[];
      const settings = workflow.settings as WorkflowSettings;
      const input = checkedInput(nodes, settings, body.input);
      const budget = {
        max_cost_usd: body.budget?.max_cost_usd ?? settings.max_cost_usd,
        max_tokens: body.budget?.max_tokens ?? settings.max_tokens,
      };
      const estimate = await estimateRun(c.env, nodes, settings, input, budget);
      return c.json({ workflow_id: workflow.id, version: workflow.version, ...estimate }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/runs',
        operationId: 'startRun',
        tags,
        summary: 'Start a run of the current version',
        request: { params: IdParam, headers: IdempotencyHeader, body: jsonBody(StartRunBody) },
        responses: startResponses,
      }),
    ),
    async (c) => {
      const { run, created } = await start(c, c.req.valid('param').id, c.req.valid('json'), c.req.valid('header')['idempotency-key']);
      return created ? c.json(run, 201) : c.json(run, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/runs',
        operationId: 'listRuns',
        tags,
        summary: "A workflow's runs, newest first",
        request: { params: IdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(RunSummarySchema, 'RunPage'), 'A page of runs'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      const { limit, cursor } = c.req.valid('query');
      const before = decodeCursor(cursor);
      if (!(await getWorkflow(c.var.db, c.var.principal.userId, id))) throw new ApiError('not_found', 'Workflow not found');
      const rows = await c.var.db
        .select()
        .from(runs)
        .where(and(eq(runs.workflowId, id), eq(runs.ownerId, c.var.principal.userId), before ? lt(runs.id, before) : undefined))
        .orderBy(desc(runs.id))
        .limit(limit + 1)
        .all();
      return c.json(toPage(rows, limit, runSummary), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/runs/{runId}',
        operationId: 'getRun',
        tags,
        summary: 'A run: status, every node with its output, every attempt',
        request: { params: RunParams },
        responses: { 200: jsonResponse(RunSchema, 'The run'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
      return c.json(await publicRun(c.var.db, await runStub(c.env, p.runId).view()), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/runs/{runId}/events',
        operationId: 'listRunEvents',
        tags,
        summary: "A run's events in order (every state change, with a per-run sequence number)",
        request: { params: RunParams, query: EventsQuery },
        responses: {
          200: jsonResponse(
            z.object({ items: z.array(EventSchema), last_seq: z.number().int() }).openapi('RunEventPage'),
            'Events after `after`',
          ),
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const q = c.req.valid('query');
      await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
      const items = await runStub(c.env, p.runId).events(q.after, q.limit);
      return c.json({ items, last_seq: items.at(-1)?.seq ?? q.after }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/runs/{runId}/stream',
        operationId: 'streamRunEvents',
        tags,
        summary: 'Server-Sent Events: stored events after `after` (or Last-Event-ID), then live ones until the run ends',
        request: { params: RunParams, query: StreamQuery },
        responses: {
          200: {
            description: 'text/event-stream; each event has `id: <seq>`, `event: <type>`, `data: <event JSON>`',
            content: { 'text/event-stream': { schema: z.string() } },
          },
          ...errorResponses('validation_error', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
      const lastEventId = Number(c.req.header('last-event-id'));
      const after = c.req.valid('query').after ?? (Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : 0);
      const stream = await runStub(c.env, p.runId).stream(after);
      return new Response(stream, {
        status: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
      });
    },
  )
  .openapi(control('pause', 'Pause: running attempts finish, no new node starts'), async (c) =>
    controlHandler(c, c.req.valid('param'), 'pause'),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/runs/{runId}/resume',
        operationId: 'resumeRun',
        tags,
        summary: 'Resume a paused run; with a body, a larger budget for a run its budget paused',
        request: { params: RunParams, body: { required: false, content: { 'application/json': { schema: ResumeBody } } } },
        responses: { 200: jsonResponse(RunSchema, 'The run after the action'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const body = (c.req.valid('json') ?? {}) as z.infer<typeof ResumeBody>;
      await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
      const view = await runStub(c.env, p.runId).resume({ maxCostUsd: body.max_cost_usd, maxTokens: body.max_tokens });
      return c.json(await publicRun(c.var.db, view), 200);
    },
  )
  .openapi(control('cancel', 'Cancel: in-flight attempts are aborted and no further node runs'), async (c) =>
    controlHandler(c, c.req.valid('param'), 'cancel'),
  )
  .openapi(control('retry', 'Re-run a failed or cancelled run from its failed nodes, reusing every completed output'), async (c) =>
    controlHandler(c, c.req.valid('param'), 'retry'),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/runs/{runId}/fork',
        operationId: 'forkRun',
        tags,
        summary:
          'Fork a run from one of its nodes: that node and everything downstream run again (with overrides), every other outcome is reused',
        request: { params: RunParams, headers: IdempotencyHeader, body: jsonBody(ForkBody) },
        responses: startResponses,
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const { run, created } = await fork(c, p, c.req.valid('json'), c.req.valid('header')['idempotency-key']);
      return created ? c.json(run, 201) : c.json(run, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{id}/runs/{runId}/events',
        operationId: 'signalRun',
        tags,
        summary: 'Send an external event to a run: an approval decision, or a named event for a wait_for_event node',
        description:
          'An approval decision sent again with the same Idempotency-Key is answered as taken (200) and not taken again, so a retry cannot become the decision on the next wait',
        request: { params: RunParams, headers: IdempotencyHeader, body: jsonBody(SignalBody) },
        responses: {
          200: jsonResponse(RunSchema, 'The run after the event'),
          ...errorResponses('validation_error', 'not_found', 'conflict'),
        },
      }),
    ),
    async (c) => {
      const p = c.req.valid('param');
      const body = c.req.valid('json');
      await ownedRun(c.var.db, c.var.principal.userId, p.id, p.runId);
      const stub = runStub(c.env, p.runId);
      const actor = c.var.principal.userId;
      if (body.type === 'event') {
        const result = await stub.signal({ ...body, payload: body.payload ?? null, actor });
        if (!result.ok) throw new ApiError(result.code, result.message);
        return c.json(await publicRun(c.var.db, await stub.view()), 200);
      }
      const { approved, ...rest } = body;
      const decision = rest.decision ?? (approved ? 'approve' : 'reject');
      // The run's object takes the decision once (it is the single writer of the run); the audit row follows it.
      const key = c.req.valid('header')['idempotency-key'];
      const result = await stub.signal({ ...rest, decision, actor, ...(key ? { key } : {}) });
      if (!result.ok) throw new ApiError(result.code, result.message);
      if (!result.replayed)
        await auditInsert(c.var.db, requestMeta(c), {
          action: `run.review.${decision}`,
          targetType: 'run',
          targetId: p.runId,
          details: { workflow_id: p.id, node_id: body.node_id, comment: body.comment ?? null, edited: decision === 'edit' },
        });
      return c.json(await publicRun(c.var.db, await stub.view()), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{id}/analytics',
        operationId: 'workflowAnalytics',
        tags,
        summary: "A workflow's run analytics: statuses, success rate, durations, tokens, retries",
        request: {
          params: IdParam,
          query: z.object({
            days: z.coerce
              .number()
              .int()
              .min(1)
              .max(365)
              .default(30)
              .openapi({ param: { name: 'days', in: 'query' } }),
          }),
        },
        responses: { 200: jsonResponse(AnalyticsSchema, 'Analytics'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const { id } = c.req.valid('param');
      if (!(await getWorkflow(c.var.db, c.var.principal.userId, id))) throw new ApiError('not_found', 'Workflow not found');
      return c.json(await workflowAnalytics(c.var.db, id, c.req.valid('query').days), 200);
    },
  );

/** The seeds' `POST /api/v3/advanced/workflows/execute`, mounted under /api/v3/advanced. */
export const executeRoutes = createRouter().openapi(
  createRoute(
    withAccess(write, {
      method: 'post',
      path: '/workflows/execute',
      operationId: 'executeWorkflow',
      tags,
      summary: 'Start a run (seed-compatible path)',
      description: 'Same as `POST /api/v3/workflows/{id}/runs` with `parameters` as the input.',
      request: { headers: IdempotencyHeader, body: jsonBody(ExecuteBody) },
      responses: startResponses,
    }),
  ),
  async (c) => {
    const body = c.req.valid('json');
    const { run, created } = await start(c, body.workflow_id, { input: body.parameters }, c.req.valid('header')['idempotency-key']);
    return created ? c.json(run, 201) : c.json(run, 200);
  },
);
