import { z } from '@hono/zod-openapi';
import { instantQuery } from '../lib/openapi';
import { PageQuery } from '../lib/pagination';

const from = instantQuery('from', 'Entries at or after this instant (ISO 8601 or epoch ms)');
const to = instantQuery('to', 'Entries at or before this instant (ISO 8601 or epoch ms)');

/** Action names are dotted words (`auth.login`); a trailing `.*` selects a whole family. */
const ACTION = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(\.\*)?$/;

export const FilterQuery = z.object({
  user_id: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .openapi({ param: { name: 'user_id', in: 'query' }, description: 'Acting user' }),
  action: z
    .string()
    .max(100)
    .regex(ACTION, 'an action such as auth.login, or a family such as auth.*')
    .optional()
    .openapi({
      param: { name: 'action', in: 'query' },
      description: 'Exact action, or a prefix ending in `.*` (`auth.*`)',
      example: 'auth.*',
    }),
  target_type: z
    .string()
    .max(64)
    .optional()
    .openapi({ param: { name: 'target_type', in: 'query' }, example: 'workflow' }),
  target_id: z
    .string()
    .max(128)
    .optional()
    .openapi({ param: { name: 'target_id', in: 'query' } }),
  outcome: z
    .enum(['success', 'failure'])
    .optional()
    .openapi({ param: { name: 'outcome', in: 'query' } }),
  from,
  to,
});
export type FilterQuery = z.infer<typeof FilterQuery>;

export const LogsQuery = PageQuery.extend(FilterQuery.shape);

export const FORMATS = ['json', 'csv'] as const;
const format = z
  .enum(FORMATS)
  .default('json')
  .openapi({ param: { name: 'format', in: 'query' } });

export const ExportQuery = FilterQuery.extend({ format });

export const ReportQuery = z.object({
  from: instantQuery('from', 'Start of the period (default: 30 days before `to`)'),
  to: instantQuery('to', 'End of the period, inclusive (default: now)'),
  format,
});

export const RetentionBody = z
  .strictObject({
    older_than_days: z
      .number()
      .int()
      .min(1)
      .max(36_500)
      .openapi({ description: 'Remove sealed entries older than this many days', example: 365 }),
  })
  .openapi('AuditRetentionRequest');

const Link = z.object({ id: z.number().int(), hash: z.string() });

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor_user_id: z.number().int().nullable(),
    actor_api_key_id: z.number().int().nullable(),
    action: z.string(),
    outcome: z.string(),
    target_type: z.string().nullable(),
    target_id: z.string().nullable(),
    request_id: z.string().nullable(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    details: z.unknown().openapi({ description: 'The recorded details object (null if none)' }),
    prev_hash: z.string().nullable(),
    hash: z.string().nullable(),
    sealed: z.boolean().openapi({ description: 'Whether the entry is hash-chained yet (see /verify)' }),
  })
  .openapi('AuditEntry');

const Problem = z.object({ id: z.number().int(), reason: z.string() });

export const VerifySchema = z
  .object({
    valid: z.boolean(),
    checked: z.number().int().openapi({ description: 'Sealed entries recomputed' }),
    invalid: z.number().int().openapi({ description: 'Problems found' }),
    unsealed: z.number().int().openapi({ description: 'Entries written since the last seal, not covered yet' }),
    first_invalid: Problem.nullable(),
    head: Link.openapi({ description: 'Last entry of the chain in D1 (or the checkpoint)' }),
    anchor: Link.extend({
      updated_at: z.number().int().nullable(),
      adopted_at: z.number().int().nullable(),
      checkpoint_upto_id: z.number().int().nullable(),
    }).openapi({ description: 'Head and latest checkpoint kept by the sealer outside D1' }),
    checkpoint: z
      .object({ upto_id: z.number().int(), hash: z.string(), removed: z.number().int(), created_at: z.number().int() })
      .nullable(),
  })
  .openapi('AuditVerification');

export const RetentionResultSchema = z
  .object({
    cutoff: z.string(),
    removed: z.number().int(),
    checkpoint: z.object({ upto_id: z.number().int(), hash: z.string() }).nullable().openapi({ description: 'Where the chain now starts' }),
    more: z.boolean().openapi({ description: 'Older entries remain: run again' }),
  })
  .openapi('AuditRetentionResult');

const n = z.number().int();
const truncatable = <T extends z.ZodType>(row: T) => z.object({ rows: z.array(row), truncated: z.boolean() });

export const ReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    generated_at: z.string(),
    entries: z.object({ total: n, success: n, failure: n }),
    admin_actions: truncatable(z.object({ actor_user_id: n, username: z.string(), action: z.string(), count: n })),
    resource_access: z.object({
      by_type: z.array(z.object({ target_type: z.string(), count: n, resources: n, actors: n })),
      by_resource: truncatable(
        z.object({ target_type: z.string(), target_id: z.string().nullable(), actor_user_id: n.nullable(), count: n }),
      ),
    }),
    failed_logins: z.object({
      total: n,
      by_login_and_ip: truncatable(
        z.object({ login: z.string().nullable(), ip: z.string().nullable(), count: n, first_at: z.string(), last_at: z.string() }),
      ),
    }),
    security_events: z.object({ total: n, by_type_and_severity: z.array(z.object({ type: z.string(), severity: z.string(), count: n })) }),
    chain: VerifySchema,
  })
  .openapi('AuditComplianceReport');
export type Report = z.infer<typeof ReportSchema>;
