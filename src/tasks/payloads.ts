import { z } from '@hono/zod-openapi';
import { isDevelopment } from '../lib/config';
import type { DB } from '../db/client';
import type { TaskType } from '../db/schema';
import { ApiError, invalidField } from '../lib/errors';
import { checkOutboundUrl } from '../lib/ssrf';
import { checkColumns, DataError, MAX_ROWS, parseCsv, tableFromJson, type Table } from './aggregate';
import { type CheckContext, taskWiring } from './registry';

/*
 * What the runner's own task types need in `payload`. Unknown fields are refused, like everywhere
 * else; the other types' payloads live with their features (their task-handler.ts).
 */
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
      .meta({ maxProperties: 20 }) // the refine above, for the document (z.toJSONSchema reads meta)
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
      .union([z.string().min(1).max(1_000_000), z.array(z.record(z.string(), CellSchema)).max(MAX_ROWS)])
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
      .max(CLEANUP_TARGETS.length)
      .default(['tasks', 'schedule_fires'])
      .refine((a) => new Set(a).size === a.length, 'no duplicates'),
  })
  .strict();

/** The runner's own task types' payloads; the other types' live with their features (task-handler.ts). */
export type Payloads = {
  webhook_call: z.infer<typeof WebhookCallPayload>;
  data_processing: z.infer<typeof DataProcessingPayload>;
  cleanup: z.infer<typeof CleanupPayload>;
};

export const outboundPolicy = (env: Env) => ({ allowHttpTestHosts: isDevelopment(env) });

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

/**
 * Validates a payload for its type with the type's handler: its schema (defaults filled in),
 * then what the schema cannot see (ownership, reachability), through the handler's check. `at`
 * locates the payload in the request body for error details.
 */
export async function validatePayload(
  env: Env,
  db: DB,
  ownerId: number,
  type: TaskType,
  payload: unknown,
  at: (string | number)[],
): Promise<Record<string, unknown>> {
  const handler = taskWiring().handlers[type];
  const parsed = handler.payload.safeParse(payload);
  if (!parsed.success) {
    throw new ApiError('validation_error', 'Request validation failed', {
      details: parsed.error.issues.map((i) => ({ path: [...at, ...i.path], code: i.code, message: i.message })),
    });
  }
  await handler.check?.({ env, db, ownerId, at }, parsed.data);
  return parsed.data as Record<string, unknown>;
}

/** The webhook URL may be called (checked again when it is). */
export async function checkWebhookCall(c: CheckContext, p: Payloads['webhook_call']): Promise<void> {
  const check = checkOutboundUrl(p.url, outboundPolicy(c.env));
  if (!check.ok) throw invalidField([...c.at, 'url'], `this URL may not be called: ${check.reason}`);
}

/** The data parses and names real columns. */
export async function checkDataProcessing(c: CheckContext, p: Payloads['data_processing']): Promise<void> {
  try {
    checkColumns(tableOf(p), p.group_by, p.fields);
  } catch (err) {
    if (err instanceof DataError) throw invalidField([...c.at, 'data'], err.message);
    throw err;
  }
}
