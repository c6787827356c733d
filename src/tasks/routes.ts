import { createRoute, z } from '@hono/zod-openapi';
import { auditInsert } from '../lib/audit';
import { ADMINS, ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { cancelTasks, getTask, listTasks, submitTasks, taskView } from './queries';
import {
  BulkCancelBody,
  BulkCancelResult,
  BulkSubmitResult,
  SigningSecretSchema,
  StatsQuery,
  submitBodies,
  type PayloadSchemas,
  TaskListQuery,
  TaskSchema,
} from './schemas';
import { rotateSigningSecret, signingSecret } from './signing';
import { taskStats } from './stats';
import { dispatcher } from './rpc';
import { requestMeta } from '../lib/context';

const read = { roles: ANY_ROLE, scope: 'tasks:read' } as const;
const write = { roles: WRITERS, scope: 'tasks:write' } as const;
const admin = { roles: ADMINS, scope: 'users:admin' } as const;
const tags = ['background tasks'];

const DispatcherSchema = z
  .object({
    paused: z.boolean(),
    ready: z.number().int(),
    in_flight: z.number().int(),
    global_cap: z.number().int(),
    per_user_cap: z.number().int(),
    next_up: z.array(z.number().int()),
  })
  .openapi('TaskDispatcherStatus');

const Percentiles = (ps: string[]) =>
  z.object({ samples: z.number().int(), mean: z.number().nullable(), ...Object.fromEntries(ps.map((p) => [p, z.number().nullable()])) });

const TaskStatsSchema = z
  .object({
    scope: z.enum(['mine', 'all']),
    window_hours: z.number().int(),
    total: z.number().int(),
    by_status: z.record(z.string(), z.number().int()),
    by_type: z.record(z.string(), z.number().int()),
    by_priority: z.record(z.string(), z.number().int()),
    throughput: z.object({
      submitted: z.number().int(),
      finished: z.number().int(),
      succeeded: z.number().int(),
      failed: z.number().int(),
      dead: z.number().int(),
      per_minute: z.number(),
    }),
    wait_ms: Percentiles(['p50', 'p95']),
    run_ms: Percentiles(['p50', 'p95']),
    dead_letter: z.object({ total: z.number().int(), in_window: z.number().int() }),
    dispatcher: DispatcherSchema.optional(),
  })
  .openapi('TaskStats');

const scheme = 'Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature (v1, HMAC-SHA256 of "<id>.<timestamp>.<body>")';

/** The task routes; `payloads` (each type's handler schema) describe the submit bodies in the document. */
export const taskRoutes = (payloads: PayloadSchemas) => {
  const bodies = submitBodies(payloads);
  return createRouter()
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'post',
          path: '/tasks/submit',
          operationId: 'submitTask',
          tags,
          summary: 'Submit a background task',
          request: { body: jsonBody(bodies.submit) },
          responses: {
            201: jsonResponse(TaskSchema, 'Queued'),
            200: jsonResponse(TaskSchema, 'The task this idempotency_key already created'),
            ...errorResponses('validation_error', 'not_found', 'conflict', 'rate_limited'),
          },
        }),
      ),
      async (c) => {
        const [r] = await submitTasks(c.env, c.var.db, requestMeta(c), c.var.principal.userId, [c.req.valid('json')]);
        return r!.created ? c.json(taskView(r!.task), 201) : c.json(taskView(r!.task), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'post',
          path: '/tasks/bulk/submit',
          operationId: 'submitTasks',
          tags,
          summary: 'Submit up to 100 tasks at once (all valid, or none stored)',
          request: { body: jsonBody(bodies.bulk) },
          responses: {
            201: jsonResponse(BulkSubmitResult, 'Queued'),
            ...errorResponses('validation_error', 'not_found', 'conflict', 'rate_limited'),
          },
        }),
      ),
      async (c) => {
        const results = await submitTasks(c.env, c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('json').tasks);
        return c.json({ items: results.map((r) => taskView(r.task)), created: results.filter((r) => r.created).length }, 201);
      },
    )
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'post',
          path: '/tasks/bulk/cancel',
          operationId: 'cancelTasks',
          tags,
          summary: 'Cancel up to 100 tasks; the answer says what happened to each',
          request: { body: jsonBody(BulkCancelBody) },
          responses: { 200: jsonResponse(BulkCancelResult, 'One result per id'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        const ids = [...new Set(c.req.valid('json').task_ids)];
        return c.json({ results: await cancelTasks(c.env, c.var.db, requestMeta(c), c.var.principal.userId, ids) }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/tasks',
          operationId: 'listTasks',
          tags,
          summary: 'Your tasks, newest first, optionally filtered',
          request: { query: PageQuery.extend(TaskListQuery.shape) },
          responses: {
            200: jsonResponse(pageOf(TaskSchema, 'TaskPage'), 'A page of tasks'),
            ...errorResponses('validation_error', 'bad_request'),
          },
        }),
      ),
      async (c) => {
        const q = c.req.valid('query');
        const rows = await listTasks(c.var.db, c.var.principal.userId, q, q.limit, decodeCursor(q.cursor));
        return c.json(
          toPage(rows, q.limit, (t) => taskView(t)),
          200,
        );
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/tasks/{id}',
          operationId: 'getTask',
          tags,
          summary: 'A task: status, attempts with their errors, result',
          request: { params: IdParam },
          responses: { 200: jsonResponse(TaskSchema, 'The task'), ...errorResponses('validation_error', 'not_found') },
        }),
      ),
      async (c) => c.json(await getTask(c.var.db, c.var.principal.userId, c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'post',
          path: '/tasks/{id}/cancel',
          operationId: 'cancelTask',
          tags,
          summary: 'Cancel a task that has not finished',
          request: { params: IdParam },
          responses: { 200: jsonResponse(TaskSchema, 'Cancelled'), ...errorResponses('validation_error', 'not_found', 'conflict') },
        }),
      ),
      async (c) => {
        const { id } = c.req.valid('param');
        const [r] = await cancelTasks(c.env, c.var.db, requestMeta(c), c.var.principal.userId, [id]);
        if (r!.outcome === 'not_found') throw new ApiError('not_found', 'Task not found');
        if (r!.outcome === 'already_finished') throw new ApiError('conflict', `The task already finished (${r!.status})`);
        return c.json(await getTask(c.var.db, c.var.principal.userId, id), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(read, {
          method: 'get',
          path: '/service/stats',
          operationId: 'taskServiceStats',
          tags,
          summary: 'Task counts by status, type and priority; throughput; p50/p95 wait and run time; dead letters',
          request: { query: StatsQuery },
          responses: { 200: jsonResponse(TaskStatsSchema, 'Counted from stored tasks'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        const q = c.req.valid('query');
        if (q.scope === 'all' && c.var.principal.role !== 'admin')
          throw new ApiError('forbidden', 'Service-wide statistics are for admins');
        return c.json(await taskStats(c.env, c.var.db, q.scope === 'all' ? null : c.var.principal.userId, q.window_hours), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'post',
          path: '/service/pause',
          operationId: 'pauseTaskService',
          tags,
          summary: 'Stop starting tasks (running ones finish; submissions still queue)',
          responses: { 200: jsonResponse(DispatcherSchema, 'Dispatcher state') },
        }),
      ),
      async (c) => {
        await auditInsert(c.var.db, requestMeta(c), { action: 'tasks.pause', targetType: 'service' });
        return c.json(await dispatcher(c.env).pause(), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'post',
          path: '/service/resume',
          operationId: 'resumeTaskService',
          tags,
          summary: 'Start tasks again, highest priority first',
          responses: { 200: jsonResponse(DispatcherSchema, 'Dispatcher state') },
        }),
      ),
      async (c) => {
        await auditInsert(c.var.db, requestMeta(c), { action: 'tasks.resume', targetType: 'service' });
        return c.json(await dispatcher(c.env).resume(), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'get',
          path: '/webhooks/signing-secret',
          operationId: 'getWebhookSigningSecret',
          tags,
          summary: 'Your webhook signing secret (created on first use), to verify webhook_call deliveries',
          responses: { 200: jsonResponse(SigningSecretSchema, 'The secret') },
        }),
      ),
      async (c) => {
        const s = await signingSecret(c.env, c.var.db, c.var.principal.userId);
        return c.json({ secret: s.secret, created_at: new Date(s.createdAt).toISOString(), scheme }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(write, {
          method: 'post',
          path: '/webhooks/signing-secret/rotate',
          operationId: 'rotateWebhookSigningSecret',
          tags,
          summary: 'Replace your webhook signing secret',
          responses: { 200: jsonResponse(SigningSecretSchema, 'The new secret') },
        }),
      ),
      async (c) => {
        const s = await rotateSigningSecret(c.env, c.var.db, requestMeta(c), c.var.principal.userId);
        return c.json({ secret: s.secret, created_at: new Date(s.createdAt).toISOString(), scheme }, 200);
      },
    );
};
