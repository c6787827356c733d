import { z } from '@hono/zod-openapi';
import type { DB } from '../db/client';
import type { TaskType } from '../db/schema';
import { ApiError } from '../lib/errors';
import { checkOutboundUrl } from '../lib/ssrf';
import { getWorkflow } from '../workflows/queries';
import { pendingDelivery } from '../notifications/pending';
import { pendingTraining } from '../ml/store';
import { pendingExecution, scheduledAutomation } from '../automations/pending';
import { checkColumns, DataError, parseCsv, tableFromJson, type Table } from './aggregate';

/** What each task type needs in `payload`. Unknown fields are refused, like everywhere else. */
export const WorkflowRunPayload = z
  .object({
    workflow_id: z.number().int().positive(),
    input: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Headers a caller may not set: the transport's own, and the signature's. */
const RESERVED_HEADERS =
  /^(host|content-length|transfer-encoding|connection|upgrade|te|trailer|keep-alive|proxy-.*|webhook-.*|cf-.*|x-forwarded-.*)$/i;

export const WebhookCallPayload = z
  .object({
    url: z.string().min(1).max(2048),
    method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
    headers: z
      .record(z.string().regex(HEADER_NAME, 'header names are letters, digits and hyphens'), z.string().max(1024))
      .default({})
      .refine((h) => Object.keys(h).length <= 20, 'at most 20 headers')
      .refine(
        (h) => !Object.keys(h).some((k) => RESERVED_HEADERS.test(k)),
        'host, length, hop-by-hop, proxy, cf-* and webhook-* headers are set by the service',
      ),
    body: z.unknown().default({}),
  })
  .strict();

const CellSchema = z.union([z.string().max(10_000), z.number(), z.boolean(), z.null()]);

export const DataProcessingPayload = z
  .object({
    // Without data (the original API's example sends none) the task aggregates an empty table:
    // it succeeds with 0 rows rather than inventing anything.
    data: z
      .union([z.string().min(1).max(1_000_000), z.array(z.record(z.string(), CellSchema))])
      .default([])
      .openapi({ description: 'CSV text (header row first) or an array of JSON objects; empty when omitted' }),
    format: z.enum(['csv', 'json']).optional().openapi({ description: 'Defaults to csv for text, json for an array' }),
    delimiter: z.enum([',', ';', '\t', '|']).default(','),
    group_by: z.array(z.string().min(1).max(100)).max(5).default([]),
    fields: z
      .array(z.string().min(1).max(100))
      .min(1)
      .max(50)
      .optional()
      .openapi({ description: 'Numeric fields to aggregate; default: every numeric column' }),
  })
  .strict();

export const CLEANUP_TARGETS = ['tasks', 'schedule_fires', 'runs'] as const;
export const CleanupPayload = z
  .object({
    older_than_days: z.number().int().min(1).max(3650).default(30),
    include: z
      .array(z.enum(CLEANUP_TARGETS))
      .min(1)
      .default(['tasks', 'schedule_fires'])
      .refine((a) => new Set(a).size === a.length, 'no duplicates'),
  })
  .strict();

/** Made by the notifications API (src/notifications/send.ts), one per notification. */
export const NotificationDeliveryPayload = z.object({ delivery_id: z.number().int().positive() }).strict();

/** Made by POST /api/v3/ml/models/{model_id}/train for large trains (src/ml/jobs.ts). */
export const MlTrainPayload = z
  .object({ model_id: z.number().int().positive(), version: z.number().int().positive(), activate: z.boolean().default(false) })
  .strict();

/** Made by src/automations/execute.ts, one per automation execution. */
export const AutomationRunPayload = z.object({ execution_id: z.number().int().positive() }).strict();

/** Made by an automation's schedule (src/automations/schedule.ts): each fire starts one execution. */
export const AutomationFirePayload = z.object({ automation_id: z.number().int().positive() }).strict();

export const PAYLOAD_SCHEMAS = {
  workflow_run: WorkflowRunPayload,
  webhook_call: WebhookCallPayload,
  data_processing: DataProcessingPayload,
  cleanup: CleanupPayload,
  notification_delivery: NotificationDeliveryPayload,
  ml_train: MlTrainPayload,
  automation_run: AutomationRunPayload,
  automation_fire: AutomationFirePayload,
} satisfies Record<TaskType, z.ZodType>;

export type Payloads = { [K in TaskType]: z.infer<(typeof PAYLOAD_SCHEMAS)[K]> };

export const outboundPolicy = (env: Env) => ({ allowHttpTestHosts: env.ENVIRONMENT !== 'production' });

export function tableOf(p: Payloads['data_processing']): Table {
  const format = p.format ?? (typeof p.data === 'string' ? 'csv' : 'json');
  if (format === 'csv') {
    if (typeof p.data !== 'string') throw new DataError('format csv needs data as text');
    return parseCsv(p.data, p.delimiter);
  }
  if (typeof p.data === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(p.data);
    } catch {
      throw new DataError('format json needs an array of objects (or JSON text of one)');
    }
    const rows = z.array(z.record(z.string(), CellSchema)).safeParse(parsed);
    if (!rows.success) throw new DataError('format json needs an array of objects with text, number, boolean or null values');
    return tableFromJson(rows.data);
  }
  return tableFromJson(p.data);
}

const invalid = (path: (string | number)[], message: string) =>
  new ApiError('validation_error', 'Request validation failed', { details: [{ path, code: 'custom', message }] });

/**
 * Validates a payload for its type, including what zod alone cannot see: that the webhook URL
 * may be called, that the data parses and names real columns, that the workflow is the
 * owner's. `prefix` locates the payload in the request body for error details.
 */
export async function validatePayload<T extends TaskType>(
  env: Env,
  db: DB,
  ownerId: number,
  type: T,
  payload: unknown,
  prefix: (string | number)[],
): Promise<Payloads[T]> {
  const parsed = PAYLOAD_SCHEMAS[type].safeParse(payload);
  if (!parsed.success) {
    throw new ApiError('validation_error', 'Request validation failed', {
      details: parsed.error.issues.map((i) => ({ path: [...prefix, ...i.path], code: i.code, message: i.message })),
    });
  }
  const p = parsed.data as Payloads[T];
  if (type === 'webhook_call') {
    const check = checkOutboundUrl((p as Payloads['webhook_call']).url, outboundPolicy(env));
    if (!check.ok) throw invalid([...prefix, 'url'], `this URL may not be called: ${check.reason}`);
  } else if (type === 'data_processing') {
    const dp = p as Payloads['data_processing'];
    try {
      checkColumns(tableOf(dp), dp.group_by, dp.fields);
    } catch (err) {
      if (err instanceof DataError) throw invalid([...prefix, 'data'], err.message);
      throw err;
    }
  } else if (type === 'workflow_run') {
    if (!(await getWorkflow(db, ownerId, (p as Payloads['workflow_run']).workflow_id)))
      throw new ApiError('not_found', 'Workflow not found');
  } else if (type === 'notification_delivery') {
    if (!(await pendingDelivery(db, ownerId, (p as Payloads['notification_delivery']).delivery_id)))
      throw invalid(
        [...prefix, 'delivery_id'],
        'not one of your notifications waiting to be sent; send notifications through /api/v3/notifications/send',
      );
  } else if (type === 'ml_train') {
    const t = p as Payloads['ml_train'];
    if (!(await pendingTraining(db, ownerId, t.model_id, t.version)))
      throw invalid(
        [...prefix, 'model_id'],
        'not one of your model versions waiting to train; train through /api/v3/ml/models/{model_id}/train',
      );
  } else if (type === 'automation_run') {
    if (!(await pendingExecution(db, ownerId, (p as Payloads['automation_run']).execution_id)))
      throw invalid(
        [...prefix, 'execution_id'],
        'not one of your automation executions waiting to run; fire automations through /api/v3/automations/{automation_id}/trigger',
      );
  } else if (type === 'automation_fire') {
    if (!(await scheduledAutomation(db, ownerId, (p as Payloads['automation_fire']).automation_id)))
      throw invalid([...prefix, 'automation_id'], 'not one of your scheduled automations');
  }
  return p;
}
