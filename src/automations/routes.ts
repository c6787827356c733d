import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { auditInsert } from '../lib/audit';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { automations } from '../db/schema';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { fire } from './execute';
import { Action, AutomationBody, AutomationIdParam, AutomationSchema, ExecutionSchema, TriggerBody } from './schemas';
import {
  automationStats,
  automationValues,
  automationView,
  executionView,
  findAutomation,
  listAutomations,
  listExecutions,
} from './queries';
import { AUTOMATION_TEMPLATES } from './templates';
import { checkAutomation } from './validate';
import { issueWebhookSecret, verifyWebhook } from './webhook';
import { dropSchedule, syncSchedule } from './schedule';
import { runBatch } from '../db/client';
import { requestMeta } from '../lib/context';

const read = { roles: ANY_ROLE, scope: 'automations:read' } as const;
const write = { roles: WRITERS, scope: 'automations:write' } as const;
const tags = ['automations'];

const StatsSchema = z
  .object({
    automations: z.object({ total: z.number().int(), enabled: z.number().int(), by_trigger: z.record(z.string(), z.number().int()) }),
    executions: z.object({
      total: z.number().int(),
      by_status: z.record(z.string(), z.number().int()),
      success_rate: z.number().nullable(),
    }),
    actions: z.record(
      z.string(),
      z.object({
        succeeded: z.number().int(),
        failed: z.number().int(),
        started: z.number().int(),
        success_rate: z.number().nullable(),
        avg_duration_ms: z.number().nullable(),
      }),
    ),
    learning: z.array(
      z.object({
        automation_id: z.string(),
        actions: z.array(z.object({ index: z.number().int(), succeeded: z.number().int(), failed: z.number().int() })),
      }),
    ),
  })
  .openapi('AutomationStats');
const TemplateSchema = z
  .object({ id: z.string(), name: z.string(), description: z.string(), automation: z.record(z.string(), z.unknown()) })
  .openapi('AutomationTemplate');

export const automationRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/',
        operationId: 'createAutomation',
        tags,
        summary: 'Create an automation',
        request: { body: jsonBody(AutomationBody) },
        responses: {
          201: jsonResponse(AutomationSchema, 'The automation'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      const db = c.var.db;
      await checkAutomation(c.env, db, c.var.principal.userId, b);
      const [rows] = await runBatch(db, [
        db
          .insert(automations)
          .values({ ownerId: c.var.principal.userId, ...automationValues(b) })
          .returning(),
      ]);
      const row = (rows as (typeof automations.$inferSelect)[])[0]!;
      const secret = row.triggerType === 'webhook' ? await issueWebhookSecret(c.env, db, row.id) : undefined;
      if (row.triggerType === 'scheduled' || row.triggerType === 'threshold') {
        try {
          await syncSchedule(c.env, db, requestMeta(c), row);
        } catch (err) {
          // The scheduler refused the cron expression or zone: keep nothing.
          await db.delete(automations).where(eq(automations.id, row.id));
          throw err;
        }
      }
      await auditInsert(db, requestMeta(c), {
        action: 'automation.create',
        targetType: 'automation',
        targetId: row.id,
        details: { trigger: row.triggerType },
      });
      return c.json({ ...automationView(row), ...(secret ? { webhook_secret: secret } : {}) }, 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/',
        operationId: 'listAutomations',
        tags,
        summary: 'Your automations, newest first',
        request: { query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(AutomationSchema, 'AutomationPage'), 'Automations'),
          ...errorResponses('validation_error', 'bad_request'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const rows = await listAutomations(c.var.db, c.var.principal.userId, q.limit, decodeCursor(q.cursor));
      return c.json(toPage(rows, q.limit, automationView), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/templates',
        operationId: 'listAutomationTemplates',
        tags,
        summary: 'Built-in automation templates (bodies ready to POST)',
        responses: { 200: jsonResponse(z.object({ templates: z.array(TemplateSchema) }), 'Templates') },
      }),
    ),
    (c) => c.json({ templates: AUTOMATION_TEMPLATES.map((t) => ({ ...t, automation: { ...t.automation } })) }, 200),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/stats',
        operationId: 'automationStats',
        tags,
        summary: 'Counts of your automations, executions and action outcomes, from stored rows',
        responses: { 200: jsonResponse(StatsSchema, 'Statistics') },
      }),
    ),
    async (c) => c.json(await automationStats(c.var.db, c.var.principal.userId), 200),
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{automation_id}',
        operationId: 'getAutomation',
        tags,
        summary: 'One automation',
        request: { params: AutomationIdParam },
        responses: { 200: jsonResponse(AutomationSchema, 'The automation'), ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => c.json(automationView(await findAutomation(c.var.db, c.var.principal.userId, c.req.valid('param').automation_id)), 200),
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'put',
        path: '/{automation_id}',
        operationId: 'replaceAutomation',
        tags,
        summary: 'Replace an automation (its execution log stays)',
        request: { params: AutomationIdParam, body: jsonBody(AutomationBody) },
        responses: {
          200: jsonResponse(AutomationSchema, 'The automation'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const b = c.req.valid('json');
      const db = c.var.db;
      const current = await findAutomation(db, c.var.principal.userId, c.req.valid('param').automation_id);
      await checkAutomation(c.env, db, c.var.principal.userId, b);
      const [row] = await db
        .update(automations)
        .set({ ...automationValues(b), updatedAt: Date.now() })
        .where(and(eq(automations.id, current.id), eq(automations.ownerId, current.ownerId)))
        .returning();
      // A webhook automation keeps its secret across edits; one gets a secret when it becomes one.
      const secret = row!.triggerType === 'webhook' && !row!.webhookSecret ? await issueWebhookSecret(c.env, db, row!.id) : undefined;
      if (row!.scheduleId !== null || row!.triggerType === 'scheduled' || row!.triggerType === 'threshold')
        await syncSchedule(c.env, db, requestMeta(c), row!);
      await auditInsert(db, requestMeta(c), { action: 'automation.update', targetType: 'automation', targetId: current.id });
      return c.json({ ...automationView(row!), ...(secret ? { webhook_secret: secret } : {}) }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'delete',
        path: '/{automation_id}',
        operationId: 'deleteAutomation',
        tags,
        summary: 'Delete an automation and its execution log',
        request: { params: AutomationIdParam },
        responses: { 204: { description: 'Deleted' }, ...errorResponses('validation_error', 'not_found') },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const current = await findAutomation(db, c.var.principal.userId, c.req.valid('param').automation_id);
      await dropSchedule(c.env, db, requestMeta(c), current);
      await runBatch(db, [
        db.delete(automations).where(eq(automations.id, current.id)),
        auditInsert(db, requestMeta(c), { action: 'automation.delete', targetType: 'automation', targetId: current.id }),
      ]);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(write, {
        method: 'post',
        path: '/{automation_id}/trigger',
        operationId: 'triggerAutomation',
        tags,
        summary: 'Fire an automation with trigger data; its actions run in the background',
        description:
          'Conditions are evaluated on trigger_data at once: when they do not hold the execution is stored as skipped. An Idempotency-Key header makes a retried request return the first execution.',
        request: {
          params: AutomationIdParam,
          body: jsonBody(TriggerBody),
          headers: z.object({ 'idempotency-key': z.string().min(1).max(128).optional() }),
        },
        responses: {
          202: jsonResponse(ExecutionSchema, 'The execution (queued, or skipped)'),
          ...errorResponses('validation_error', 'not_found', 'rate_limited'),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const a = await findAutomation(db, c.var.principal.userId, c.req.valid('param').automation_id);
      const b = c.req.valid('json');
      const key = c.req.valid('header')['idempotency-key'];
      const e = await fire(c.env, db, a, {
        eventId: key ? `api:${key}` : `api:${crypto.randomUUID()}`,
        triggerData: b.trigger_data,
        context: b.context,
        depth: 0,
        originAutomationId: null,
        meta: requestMeta(c),
      });
      return c.json(
        executionView(
          e,
          a.actions.map((x) => Action.parse(x)),
          [],
        ),
        202,
      );
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/{automation_id}/webhook',
      operationId: 'automationWebhook',
      tags,
      summary: 'Inbound webhook: fire a webhook-triggered automation (public; authenticated by HMAC signature)',
      description:
        'Sign `<X-Automation-Timestamp>.<raw body>` with HMAC-SHA256 under the secret returned when the automation was created, and send `X-Automation-Signature: sha256=<hex>`. Timestamps more than 300 s off are refused; a replayed delivery returns the first execution.',
      security: [],
      middleware: verifyWebhook(),
      request: {
        params: AutomationIdParam,
        body: jsonBody(TriggerBody),
        headers: z.object({ 'x-automation-timestamp': z.string().max(12), 'x-automation-signature': z.string().max(80) }),
      },
      responses: {
        202: jsonResponse(ExecutionSchema, 'The execution (queued, or skipped)'),
        ...errorResponses('validation_error', 'unauthorized', 'rate_limited'),
      },
    }),
    async (c) => {
      const db = c.var.db;
      const id = c.req.valid('param').automation_id;
      const a = (await db.select().from(automations).where(eq(automations.id, id)).get())!;
      const b = c.req.valid('json');
      const sig = c.req.valid('header')['x-automation-signature'];
      const meta = { ...requestMeta(c), actorUserId: a.ownerId };
      const e = await fire(c.env, db, a, {
        eventId: `webhook:${sig.slice(7)}`,
        triggerData: b.trigger_data,
        context: b.context,
        depth: 0,
        originAutomationId: null,
        meta,
      });
      return c.json(
        executionView(
          e,
          a.actions.map((x) => Action.parse(x)),
          [],
        ),
        202,
      );
    },
  )
  .openapi(
    createRoute(
      withAccess(read, {
        method: 'get',
        path: '/{automation_id}/executions',
        operationId: 'listAutomationExecutions',
        tags,
        summary: "The automation's execution log, newest first: trigger data, decision, each action's status, output, error and duration",
        request: { params: AutomationIdParam, query: PageQuery },
        responses: {
          200: jsonResponse(pageOf(ExecutionSchema, 'AutomationExecutionPage'), 'Executions'),
          ...errorResponses('validation_error', 'bad_request', 'not_found'),
        },
      }),
    ),
    async (c) => {
      const q = c.req.valid('query');
      const a = await findAutomation(c.var.db, c.var.principal.userId, c.req.valid('param').automation_id);
      const { rows, results } = await listExecutions(c.var.db, a, q.limit, decodeCursor(q.cursor));
      const actions = a.actions.map((x) => Action.parse(x));
      return c.json(
        toPage(rows, q.limit, (e) =>
          executionView(
            e,
            actions,
            results.filter((r) => r.executionId === e.id),
          ),
        ),
        200,
      );
    },
  );
