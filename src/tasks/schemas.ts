import { z } from '@hono/zod-openapi';
import { jsonObject } from '../lib/json';
import { TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES, type TaskType } from '../db/schema';
import type { SchemaMetadata } from '../lib/openapi';

export const SubmitBody = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Test Task' }),
    task_type: z.enum(TASK_TYPES),
    priority: z.enum(TASK_PRIORITIES).default('normal'),
    payload: jsonObject().default({}).openapi({
      description:
        'By type — workflow_run: {workflow_id, input}; webhook_call: {url, method?, headers?, body?}; data_processing: {data (CSV text or array of objects), format?, delimiter?, group_by?, fields?}; cleanup: {older_than_days?, include?}',
    }),
    delay_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(0),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(86_400)
      .default(300)
      .openapi({ description: 'Time budget from the first start, retries included' }),
    max_retries: z.number().int().min(0).max(10).default(3),
    idempotency_key: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .optional()
      .openapi({ description: 'Submitting again with the same key returns the task it created (200); with a different body, 409' }),
  })
  .strict();
export type SubmitBody = z.infer<typeof SubmitBody>;

/** Each task type's payload schema: its handler's (src/<feature>/task-handler.ts), given by the composition root. */
export type PayloadSchemas = { readonly [K in TaskType]: z.ZodType };

/** A handler's payload schema as JSON Schema, as a client writes it (defaults optional; refinements stay in the server). */
function payloadJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return json;
}

/**
 * The submit bodies as the document describes them: for each task type, `payload` must match
 * that type's schema, so a body the document accepts is one the server accepts (issue 25). The
 * runtime checks are the same zod schemas, through validatePayload.
 */
export function submitBodies(payloads: PayloadSchemas) {
  const byType = (type: TaskType): Record<string, unknown> => ({
    anyOf: [{ properties: { task_type: { not: { const: type } } } }, { properties: { payload: payloadJsonSchema(payloads[type]) } }],
  });
  // z.toJSONSchema's output is JSON Schema 2020-12, which OpenAPI 3.1 takes as it is; the
  // metadata type only knows the OpenAPI 3.0 and 3.1 schema objects, hence the one assertion.
  const submit = SubmitBody.openapi('TaskSubmit', { allOf: TASK_TYPES.map(byType) } as unknown as SchemaMetadata);
  const bulk = z
    .object({ tasks: z.array(submit).min(1).max(100) })
    .strict()
    .openapi('TaskBulkSubmit');
  return { submit, bulk };
}
export const BulkCancelBody = z
  .object({ task_ids: z.array(z.number().int().positive()).min(1).max(100) })
  .strict()
  .openapi('TaskBulkCancel');

const iso = z.string().openapi({ format: 'date-time' });

export const AttemptSchema = z.object({
  attempt: z.number().int(),
  status: z.enum(['succeeded', 'failed', 'timed_out', 'cancelled']),
  started_at: iso,
  finished_at: iso,
  error: z.string().nullable(),
  retry_delay_seconds: z.number().int().nullable(),
});

export const TaskSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    task_type: z.enum(TASK_TYPES),
    priority: z.enum(TASK_PRIORITIES),
    status: z.enum(TASK_STATUSES),
    payload: z.record(z.string(), z.unknown()),
    result: z.unknown().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    max_retries: z.number().int(),
    timeout_seconds: z.number().int(),
    delay_seconds: z.number().int(),
    idempotency_key: z.string().nullable(),
    run_id: z.number().int().nullable(),
    schedule_id: z.number().int().nullable(),
    created_at: iso,
    run_after: iso,
    started_at: iso.nullable(),
    finished_at: iso.nullable(),
    next_retry_at: iso.nullable(),
    attempt_log: z.array(AttemptSchema).optional().openapi({ description: 'Every finished attempt (on GET of one task)' }),
  })
  .openapi('Task');

export const TaskListQuery = z.object({
  status: z
    .enum(TASK_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' } }),
  task_type: z
    .enum(TASK_TYPES)
    .optional()
    .openapi({ param: { name: 'task_type', in: 'query' } }),
  priority: z
    .enum(TASK_PRIORITIES)
    .optional()
    .openapi({ param: { name: 'priority', in: 'query' } }),
});

export const BulkSubmitResult = z
  .object({
    items: z.array(TaskSchema),
    created: z.number().int().openapi({ description: 'How many were new (the rest matched an idempotency key)' }),
  })
  .openapi('TaskBulkSubmitResult');

export const BulkCancelResult = z
  .object({
    results: z.array(
      z.object({
        id: z.number().int(),
        outcome: z.enum(['cancelled', 'already_finished', 'not_found']),
        status: z.enum(TASK_STATUSES).nullable(),
      }),
    ),
  })
  .openapi('TaskBulkCancelResult');

export const SigningSecretSchema = z
  .object({
    secret: z.string().openapi({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }),
    created_at: iso,
    scheme: z.string().openapi({ example: 'Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature (v1, HMAC-SHA256)' }),
  })
  .openapi('WebhookSigningSecret');

export const StatsQuery = z.object({
  scope: z
    .enum(['mine', 'all'])
    .default('mine')
    .openapi({ param: { name: 'scope', in: 'query' }, description: '`all` (the whole service) is for admins' }),
  window_hours: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24)
    .openapi({ param: { name: 'window_hours', in: 'query' }, description: 'Window for throughput and percentiles' }),
});
