import { z } from '@hono/zod-openapi';
import type { SchemaMetadata } from '../lib/openapi';
import { jsonObject } from '../lib/json';
import { DELIVERY_STATUSES, NOTIFICATION_CHANNELS, NOTIFICATION_PRIORITIES } from '../db/schema';
import { PageQuery } from '../lib/pagination';

const iso = z.string().openapi({ format: 'date-time' });
const Channel = z.enum(NOTIFICATION_CHANNELS);
const Recipient = z.string().trim().min(1).max(320);
const Variables = z
  .record(z.string().max(64), z.string().max(5000))
  .refine((v) => Object.keys(v).length <= 50, 'at most 50 variables')
  .openapi({ description: 'Values for the template’s {{variables}}' });
const Data = jsonObject({ maxBytes: 4000, maxKeyLength: 64 }).openapi({
  description: 'Extra JSON passed to push, webhook and in-app receivers',
});

const content = {
  subject: z.string().max(300).optional().openapi({ example: 'Test', description: 'Email: required and not blank' }),
  message: z
    .string()
    .min(1)
    .max(10_000)
    .optional()
    .openapi({ example: 'Hello', description: "SMS: at most 1,600 characters (Twilio's limit), counted after a template is filled in" }),
  template_id: z.number().int().positive().optional(),
  variables: Variables.optional(),
  priority: z.enum(NOTIFICATION_PRIORITIES).default('normal'),
  send_at: z.string().max(40).optional().openapi({ description: 'ISO 8601; when to send (up to 7 days ahead). Default: now' }),
  data: Data.optional(),
  config: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional()
    .openapi({ description: 'Email, SMS and push: the configuration name to use (default "default")' }),
};

/** Exactly a message (with an optional subject) or a template_id; variables only with a template (src/notifications/send.ts). */
const messageOrTemplate: SchemaMetadata = {
  allOf: [
    // An email needs a subject that is not blank, unless a template gives it (src/notifications/send.ts).
    {
      anyOf: [
        { properties: { channel: { not: { const: 'email' } } } },
        { required: ['template_id'] },
        { required: ['subject'], properties: { subject: { pattern: '\\S' } } },
      ],
    },
    // Variables fill a template, so they need one.
    { anyOf: [{ not: { required: ['variables'] } }, { required: ['template_id'] }] },
  ],
  oneOf: [
    { required: ['message'], not: { required: ['template_id'] } },
    { required: ['template_id'], not: { anyOf: [{ required: ['message'] }, { required: ['subject'] }] } },
  ],
};

export const SendBody = z
  .strictObject({
    channel: Channel.openapi({ example: 'email' }),
    recipient: Recipient.openapi({
      example: 'user@example.com',
      description:
        'email: address; sms: E.164 number; push and in_app: username, email or user id; webhook, slack, teams, discord: the name of a saved configuration',
    }),
    ...content,
  })
  .openapi('NotificationSend', messageOrTemplate);

export const BulkSendBody = z
  .strictObject({
    channel: Channel,
    recipients: z
      .array(z.union([Recipient, z.strictObject({ recipient: Recipient, variables: Variables.optional() })]))
      .min(1)
      .max(100)
      .openapi({ description: 'Up to 100; each a recipient, or {recipient, variables} to fill a template per recipient' }),
    ...content,
  })
  .openapi('NotificationBulkSend', messageOrTemplate);

export const AttemptSchema = z.object({
  attempt: z.number().int(),
  status: z.enum(['sent', 'failed', 'skipped']),
  retryable: z.boolean(),
  response_code: z.number().int().nullable(),
  latency_ms: z.number().int().nullable(),
  error: z.string().nullable(),
  at: iso,
});

export const DeliverySchema = z
  .object({
    id: z.number().int(),
    batch_id: z.string(),
    channel: Channel,
    recipient: z.string(),
    config: z.string(),
    subscription_id: z.number().int().nullable(),
    template_id: z.number().int().nullable(),
    subject: z.string(),
    message: z.string(),
    data: z.record(z.string(), z.unknown()),
    priority: z.enum(NOTIFICATION_PRIORITIES),
    status: z.enum(DELIVERY_STATUSES),
    skip_reason: z.string().nullable(),
    error: z.string().nullable(),
    provider_status: z.number().int().nullable(),
    provider_message_id: z.string().nullable(),
    attempts: z.number().int(),
    task_id: z.number().int().nullable(),
    send_at: iso,
    created_at: iso,
    finished_at: iso.nullable(),
    attempt_log: z.array(AttemptSchema).optional(),
  })
  .openapi('NotificationDelivery');

export const SendResultSchema = z.object({ batch_id: z.string(), deliveries: z.array(DeliverySchema) }).openapi('NotificationSendResult');

export const DeliveryQuery = PageQuery.extend({
  recipient: z
    .string()
    .max(320)
    .optional()
    .openapi({ param: { name: 'recipient', in: 'query' } }),
  channel: Channel.optional().openapi({ param: { name: 'channel', in: 'query' } }),
  status: z
    .enum(DELIVERY_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' } }),
  batch_id: z
    .string()
    .max(64)
    .optional()
    .openapi({ param: { name: 'batch_id', in: 'query' } }),
});

// ---- channel configurations -------------------------------------------------------------------

export const ScopeQuery = z.object({
  scope: z
    .enum(['mine', 'global'])
    .default('mine')
    .openapi({ param: { name: 'scope', in: 'query' }, description: '`global`: the service-wide configurations (admins only)' }),
});

export const ChannelParams = z.object({
  channel: Channel.openapi({ param: { name: 'channel', in: 'path' } }),
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'default' }),
});

export const ConfigBody = z
  .strictObject({
    settings: z.record(z.string().max(64), z.unknown()).default({}).openapi({ description: 'Per channel; see README' }),
    secrets: z
      .record(z.string().max(64), z.string().max(2048))
      .default({})
      .refine((s) => Object.keys(s).length <= 10, 'at most 10 secrets')
      .openapi({
        description:
          'API keys, tokens, secret webhook URLs; stored encrypted, shown back only as hints. Fields left out keep their stored value',
      }),
    enabled: z.boolean().default(true),
  })
  .openapi('NotificationChannelConfigInput');

export const ConfigSchema = z
  .object({
    id: z.number().int(),
    scope: z.enum(['user', 'global']),
    channel: Channel,
    name: z.string(),
    enabled: z.boolean(),
    settings: z.record(z.string(), z.unknown()),
    secrets: z.record(z.string(), z.string()).openapi({ description: 'Hints only (origin and last 4 characters)' }),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('NotificationChannelConfig');

// ---- templates, preferences, push subscriptions -----------------------------------------------

export const TemplateBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    channel: Channel,
    subject: z.string().max(300).default('').openapi({ description: 'Email templates: required and not blank' }),
    body: z.string().min(1).max(10_000),
    variables: z
      .array(z.strictObject({ name: z.string().max(64), required: z.boolean().default(true), default: z.string().max(5000).optional() }))
      .max(50)
      .default([]),
  })
  .openapi('NotificationTemplateInput', {
    // An email template needs a subject that is not blank (src/notifications/templates.ts).
    anyOf: [
      { properties: { channel: { not: { const: 'email' } } } },
      { required: ['subject'], properties: { subject: { pattern: '\\S' } } },
    ],
  });

export const TemplateSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    channel: Channel,
    subject: z.string(),
    body: z.string(),
    variables: z.array(z.object({ name: z.string(), required: z.boolean(), default: z.string().optional() })),
    created_at: iso,
    updated_at: iso,
  })
  .openapi('NotificationTemplate');

const channelFlags = Object.fromEntries(NOTIFICATION_CHANNELS.map((c) => [c, z.boolean()])) as Record<
  (typeof NOTIFICATION_CHANNELS)[number],
  z.ZodBoolean
>;
export const PreferencesSchema = z.object(channelFlags).openapi('NotificationPreferences');
export const PreferencesBody = z
  .strictObject(
    Object.fromEntries(NOTIFICATION_CHANNELS.map((c) => [c, z.boolean().optional()])) as Record<
      (typeof NOTIFICATION_CHANNELS)[number],
      z.ZodOptional<z.ZodBoolean>
    >,
  )
  .openapi('NotificationPreferencesInput', {
    description: 'true: receive this channel; false: opt out. Channels left out keep their setting',
  });

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;
export const SubscriptionBody = z
  .strictObject({
    endpoint: z.string().url().max(2048),
    expirationTime: z.number().nullable().optional(),
    keys: z.strictObject({ p256dh: z.string().max(100).regex(B64URL), auth: z.string().max(40).regex(B64URL) }),
  })
  .openapi('PushSubscriptionInput', { description: 'A browser PushSubscription, as PushSubscription.toJSON() gives it' });

export const SubscriptionSchema = z
  .object({ id: z.number().int(), endpoint_origin: z.string(), p256dh: z.string(), created_at: iso })
  .openapi('PushSubscription');
