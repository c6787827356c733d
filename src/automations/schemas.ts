import { z } from '@hono/zod-openapi';
import { jsonObject, jsonValue } from '../lib/json';
import { AUTOMATION_TRIGGERS, EXECUTION_STATUSES, NOTIFICATION_CHANNELS, TASK_PRIORITIES, TASK_TYPES } from '../db/schema';
import { PROVIDERS } from '../ai';

/** Internal events an `event_based` automation can name in `trigger.event`. */
/** What a threshold trigger can count. */
export const THRESHOLD_METRICS = ['failed_runs', 'failed_tasks', 'succeeded_runs'] as const;

export const AUTOMATION_EVENTS = [
  'workflow.completed',
  'workflow.failed',
  'document.generated',
  'task.failed',
  'workflow.created',
  'workflow.updated',
] as const;
export type AutomationEvent = (typeof AUTOMATION_EVENTS)[number];

const Scalar = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const Path = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a dotted path such as trigger.priority');
export const CONDITION_OPS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists'] as const;

export type ConditionExpr =
  | { all: ConditionExpr[] }
  | { any: ConditionExpr[] }
  | { not: ConditionExpr }
  | { path: string; op: (typeof CONDITION_OPS)[number]; value?: z.infer<typeof Scalar> | z.infer<typeof Scalar>[] };

const Leaf = z.strictObject({ path: Path, op: z.enum(CONDITION_OPS), value: z.union([Scalar, z.array(Scalar).max(50)]).optional() });
const level = (inner: z.ZodType) =>
  z.union([
    Leaf,
    z.strictObject({ all: z.array(inner).min(1).max(20) }),
    z.strictObject({ any: z.array(inner).min(1).max(20) }),
    z.strictObject({ not: inner }),
  ]);

/**
 * A JSON condition tree, evaluated by src/automations/conditions.ts (no eval, no code). Built
 * to a fixed depth of four levels rather than with z.lazy, so the OpenAPI document stays finite.
 */
export const ConditionExpr = level(level(level(level(Leaf)))) as unknown as z.ZodType<ConditionExpr>;

/** The seed's form: `{event_type: "content_request", priority: "high"}` — equality on trigger data. */
export const EqualityConditions = z.record(Path, Scalar).refine((r) => Object.keys(r).length <= 20, 'at most 20 conditions');
export const Conditions = z.union([ConditionExpr, EqualityConditions]).openapi('AutomationConditions', {
  description:
    'Either a map of trigger-data fields to required values (equality), or an expression {all|any: [...]}, {not: ...}, {path, op, value} over {trigger, context, event}',
});

export const Trigger = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('api_call'), conditions: Conditions.optional() }),
    z.strictObject({
      type: z.literal('scheduled'),
      cron_expression: z
        .string()
        .trim()
        .min(1)
        .max(120)
        .openapi({ example: '0 9 * * 1', description: 'Fires through the scheduler (a cron schedule is made for the automation)' }),
      timezone: z.string().min(1).max(64).default('UTC'),
      conditions: Conditions.optional(),
    }),
    z.strictObject({
      type: z.literal('threshold'),
      metric: z.enum(THRESHOLD_METRICS).openapi({ description: 'Counted from your stored rows over the window' }),
      window_minutes: z.number().int().min(1).max(1440).default(60),
      op: z.enum(['gt', 'gte', 'lt', 'lte']).default('gte'),
      value: z.number().min(0).max(1_000_000),
      check_every_seconds: z
        .number()
        .int()
        .min(60)
        .max(86_400)
        .default(60)
        .openapi({ description: 'How often the scheduler checks (an interval schedule)' }),
      conditions: Conditions.optional(),
    }),
    z
      .strictObject({ type: z.literal('webhook'), conditions: Conditions.optional() })
      .openapi({ description: 'Fired by POST /api/v3/automations/{automation_id}/webhook signed with the secret returned at creation' }),
    z.strictObject({
      type: z.literal('event_based'),
      event: z.enum(AUTOMATION_EVENTS).optional().openapi({
        description: 'An internal event; without it the automation fires on POST .../trigger and on internal events its conditions match',
      }),
      conditions: Conditions.optional(),
    }),
  ])
  .openapi('AutomationTrigger');
export type Trigger = z.infer<typeof Trigger>;

const Text = (max: number) => z.string().max(max);
const Headers = z
  .record(z.string().regex(/^[A-Za-z0-9-]{1,64}$/), z.string().max(1024))
  .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers');

export const Action = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('ai_generation'),
      parameters: z.strictObject({
        prompt_template: Text(8000).min(1),
        system: Text(4000).optional(),
        max_tokens: z.number().int().min(1).max(8000).optional(),
        temperature: z.number().min(0).max(2).optional(),
        provider: z.enum(PROVIDERS).optional(),
        model: Text(100).min(1).optional().openapi({ description: "Provider-specific model id; default: the provider's" }),
      }),
    }),
    z.strictObject({
      type: z.literal('send_notification'),
      parameters: z.strictObject({
        channel: z.enum(NOTIFICATION_CHANNELS),
        template: Text(100)
          .min(1)
          .optional()
          .openapi({ description: 'Name of one of your notification templates; without one by that name a built-in message is sent' }),
        recipient: Text(320)
          .min(1)
          .optional()
          .openapi({ description: 'Default: you (your user id for in_app/push, your email for email)' }),
        subject: Text(200).optional(),
        message: Text(8000).optional(),
      }),
    }),
    z.strictObject({
      type: z.literal('run_workflow'),
      parameters: z.strictObject({
        workflow_id: z.number().int().positive(),
        input: jsonObject({ maxKeyLength: 100 }).default({}),
      }),
    }),
    z.strictObject({
      type: z.literal('submit_task'),
      parameters: z.strictObject({
        task_type: z
          .enum(TASK_TYPES)
          .exclude(['automation_run', 'automation_fire', 'notification_delivery', 'ml_train', 'document_export']),
        payload: jsonObject({ maxKeyLength: 100 }).default({}),
        priority: z.enum(TASK_PRIORITIES).default('normal'),
      }),
    }),
    z.strictObject({
      type: z.literal('call_webhook'),
      parameters: z.strictObject({
        url: Text(2048).min(1),
        method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
        headers: Headers.default({}),
        body: jsonValue().optional(),
      }),
    }),
  ])
  .openapi('AutomationAction');
export type Action = z.infer<typeof Action>;

export const AutomationBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).optional(),
    trigger: Trigger,
    actions: z.array(Action).min(1).max(10),
    ai_decision_making: z.boolean().default(false),
    learning_enabled: z.boolean().default(false),
    enabled: z.boolean().default(true),
  })
  .openapi('AutomationCreate');
export type AutomationBody = z.infer<typeof AutomationBody>;

export const TriggerBody = z
  .strictObject({
    // Bounded before anything serialises them (JSON.stringify of a deeply nested value overflows the stack).
    trigger_data: jsonObject({ maxBytes: 32_000, maxKeyLength: 100 }).default({}),
    context: jsonObject({ maxBytes: 8_000, maxKeyLength: 100 }).default({}),
  })
  .openapi('AutomationTriggerRequest');

export const AutomationIdParam = z.object({
  automation_id: z
    .string()
    .max(40)
    .regex(/^automation_[1-9][0-9]{0,14}$/, 'an automation id looks like automation_1')
    .transform((s) => Number(s.slice('automation_'.length)))
    .openapi({ param: { name: 'automation_id', in: 'path' }, example: 'automation_1', type: 'string' }),
});

const iso = z.string().openapi({ format: 'date-time' });

export const AutomationSchema = z
  .object({
    id: z.string().openapi({ example: 'automation_1' }),
    name: z.string(),
    description: z.string().nullable(),
    trigger: Trigger,
    actions: z.array(Action),
    ai_decision_making: z.boolean(),
    learning_enabled: z.boolean(),
    enabled: z.boolean(),
    webhook_secret: z.string().optional().openapi({
      description:
        'Only in the response that created the webhook secret: sign webhook calls with it (it is stored encrypted and never shown again)',
    }),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('Automation');

export const ActionResultSchema = z.object({
  index: z.number().int(),
  type: z.string(),
  status: z.enum(['started', 'succeeded', 'failed', 'not_run']),
  output: z.unknown().nullable(),
  error: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
});

export const ExecutionSchema = z
  .object({
    id: z.number().int(),
    automation_id: z.string(),
    event_id: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    trigger_data: z.record(z.string(), z.unknown()),
    context: z.record(z.string(), z.unknown()),
    depth: z.number().int(),
    origin_automation_id: z.string().nullable(),
    task_id: z.number().int().nullable(),
    decision: z.object({ source: z.string(), order: z.array(z.number().int()), reason: z.string().nullable() }).nullable(),
    error: z.string().nullable(),
    actions: z.array(ActionResultSchema),
    created_at: iso,
    finished_at: iso.nullable(),
  })
  .openapi('AutomationExecution');

export const TRIGGER_TYPES = AUTOMATION_TRIGGERS;
