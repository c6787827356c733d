import { z } from '@hono/zod-openapi';
import { RegistrationSettings } from '../auth';

export const AdminOperation = z
  .object({
    method: z.string().openapi({ example: 'POST' }),
    path: z.string().openapi({ example: '/api/v3/admin/maintenance/purge' }),
    operation_id: z.string().nullable(),
    summary: z.string().nullable(),
    scope: z.string().nullable().openapi({ description: 'The API-key scope the operation needs; null: sessions only' }),
  })
  .openapi('AdminOperation');

export const AdminIndex = z
  .object({
    operations: z.array(AdminOperation).openapi({ description: 'Every operation only administrators may call, by path' }),
  })
  .openapi('AdminIndex');

export const AdminConfig = z
  .object({
    environment: z.enum(['development', 'production']),
    version: z.string(),
    vars: z
      .record(z.string(), z.string().nullable())
      .openapi({ description: 'The [vars] of wrangler.toml (and optional model settings) in force; null when unset' }),
    secrets: z.record(z.string(), z.boolean()).openapi({
      description:
        'Whether each secret is set, never its value; endpoint URLs that can carry credentials (OPENAI_BASE_URL, OTEL_EXPORTER_OTLP_ENDPOINT) are reported the same way',
    }),
    secrets_problem: z
      .string()
      .nullable()
      .openapi({ description: 'Why credentials are refused (503) in this deployment, or null when the secrets are usable' }),
    bindings: z.record(z.string(), z.boolean()).openapi({ description: 'Whether each optional binding is present' }),
    // From the shape, not `.extend` (an allOf with the closed request schema would accept no value).
    registration: z
      .object({
        ...RegistrationSettings.shape,
        source: z.enum(['default', 'saved']).openapi({ description: 'default: nothing saved yet, the environment default applies' }),
      })
      .openapi('AdminRegistrationSettings'),
    ai: z.object({
      provider: z.string().openapi({ description: 'Default provider (AI_PROVIDER)' }),
      chain: z.array(z.string()).openapi({ description: 'Default provider, then fallbacks' }),
      configured: z.record(z.string(), z.boolean()),
      models: z.record(z.string(), z.string()).openapi({ description: 'Each configured provider: the model it calls by default' }),
    }),
    editable: z
      .array(z.string())
      .openapi({ description: 'The sections PATCH /api/v3/admin/config changes; the rest is set at deploy time' }),
  })
  .openapi('AdminConfig');

export const AdminConfigPatch = z
  .strictObject({
    registration: z
      .strictObject({
        mode: RegistrationSettings.shape.mode.optional(),
        default_role: RegistrationSettings.shape.default_role.optional(),
        email_verification: RegistrationSettings.shape.email_verification.optional(),
      })
      .optional()
      .openapi({ description: 'The registration policy (as PUT /api/v3/auth/registration); fields left out keep their value' }),
  })
  .openapi('AdminConfigPatch');

export const PurgeResult = z
  .object({
    deleted: z.record(z.string(), z.number().int()).openapi({
      description: 'Rows deleted per table (child rows removed with them included), and run objects whose storage was emptied',
    }),
    total: z.number().int(),
    ran_at: z.string(),
  })
  .openapi('PurgeResult');

export const ReindexResult = z
  .object({
    indexes: z.array(
      z.object({
        index: z.string().openapi({ example: 'documents_fts' }),
        table: z.string().openapi({ example: 'documents' }),
        rows: z.number().int().openapi({ description: 'Rows of the table now in the index' }),
      }),
    ),
    ran_at: z.string(),
  })
  .openapi('ReindexResult');
