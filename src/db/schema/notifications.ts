/**
 * The in-app inbox, and channels, templates, preferences, push subscriptions and deliveries
 * (src/notifications).
 */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const NOTIFICATION_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

/** The in-app inbox: one row per notification per recipient, pushed live when stored. */
export const notifications = sqliteTable(
  'notifications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    category: text('category').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
    priority: text('priority', { enum: NOTIFICATION_PRIORITIES }).notNull().default('normal'),
    /** Makes a producer's retry store nothing twice (e.g. `security_event:42`). */
    dedupeKey: text('dedupe_key'),
    createdAt: integer('created_at').notNull().default(now),
    readAt: integer('read_at'),
  },
  (t) => [index('notifications_user_idx').on(t.userId, t.id), uniqueIndex('notifications_dedupe_unique').on(t.userId, t.dedupeKey)],
);

// ---- notification channels, templates, preferences, deliveries (src/notifications) ---------

export const NOTIFICATION_CHANNELS = ['email', 'sms', 'push', 'webhook', 'slack', 'teams', 'discord', 'in_app'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const DELIVERY_STATUSES = ['queued', 'retrying', 'sent', 'failed', 'skipped', 'cancelled'] as const;

/**
 * A channel configuration: a user's own (`scope_key` `user:<id>`) or the service-wide one an
 * admin sets (`global`). `settings` holds what may be shown; `secrets` is one sealed JSON object
 * (API keys, auth tokens, secret webhook URLs, signing secrets, the VAPID private key), bound to
 * (scope, channel, name) so it cannot be opened in another row.
 */
export const notificationChannels = sqliteTable(
  'notification_channels',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    scopeKey: text('scope_key').notNull(),
    ownerId: integer('owner_id').references(() => users.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    name: text('name').notNull(),
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    secrets: text('secrets'),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [uniqueIndex('notification_channels_unique').on(t.scopeKey, t.channel, t.name)],
);

/** A message template for one channel; `variables` lists every `{{name}}` it may use. */
export const notificationTemplates = sqliteTable(
  'notification_templates',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    variables: text('variables', { mode: 'json' }).$type<{ name: string; required: boolean; default?: string }[]>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [uniqueIndex('notification_templates_name_unique').on(t.ownerId, t.name)],
);

/** A user's opt-outs: a row with `opted_out` true skips that channel for them. */
export const notificationPreferences = sqliteTable(
  'notification_preferences',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    optedOut: integer('opted_out', { mode: 'boolean' }).notNull(),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.userId, t.channel] })],
);

/** A browser's Web Push subscription (RFC 8030 endpoint, RFC 8291 keys); `auth` is sealed. */
export const pushSubscriptions = sqliteTable(
  'push_subscriptions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('push_subscriptions_endpoint_unique').on(t.userId, t.endpoint)],
);

/**
 * One notification to one recipient on one channel (a push to a user is one row per
 * subscription). Sent by the background task `notification_delivery`, whose idempotency key is
 * `notification:<id>`; `batch_id` groups the rows of one send or bulk send.
 */
export const notificationDeliveries = sqliteTable(
  'notification_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    batchId: text('batch_id').notNull(),
    channel: text('channel', { enum: NOTIFICATION_CHANNELS }).notNull(),
    configName: text('config_name').notNull(),
    recipient: text('recipient').notNull(),
    recipientUserId: integer('recipient_user_id'),
    subscriptionId: integer('subscription_id'),
    templateId: integer('template_id'),
    subject: text('subject').notNull(),
    body: text('body').notNull(),
    data: text('data', { mode: 'json' }).$type<Record<string, unknown>>(),
    priority: text('priority', { enum: NOTIFICATION_PRIORITIES }).notNull(),
    sendAt: integer('send_at').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull(),
    skipReason: text('skip_reason'),
    error: text('error'),
    providerStatus: integer('provider_status'),
    providerMessageId: text('provider_message_id'),
    attempts: integer('attempts').notNull().default(0),
    taskId: integer('task_id'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    index('notification_deliveries_owner_idx').on(t.ownerId, t.id),
    index('notification_deliveries_recipient_idx').on(t.ownerId, t.recipient, t.id),
    // batch_id is the sender's idempotency key, unique per owner only: the owner leads.
    index('notification_deliveries_batch_idx').on(t.ownerId, t.batchId, t.id),
    index('notification_deliveries_channel_idx').on(t.ownerId, t.channel, t.id),
    index('notification_deliveries_status_idx').on(t.ownerId, t.status, t.id),
  ],
);

/** One row per attempt at a delivery: outcome, the provider's status code, and latency. */
export const notificationAttempts = sqliteTable(
  'notification_attempts',
  {
    deliveryId: integer('delivery_id')
      .notNull()
      .references(() => notificationDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    status: text('status', { enum: ['sent', 'failed', 'skipped'] }).notNull(),
    retryable: integer('retryable', { mode: 'boolean' }).notNull().default(false),
    responseCode: integer('response_code'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    at: integer('at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);

/**
 * Recipient domains an administrator approved for the service's own email sender (the global
 * email configuration or the deployment's binding): besides its users' verified addresses, the
 * only places it writes to for a non-admin sender (src/notifications/relay.ts).
 */
export const serviceEmailDomains = sqliteTable('service_email_domains', {
  domain: text('domain').primaryKey(),
  createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull().default(now),
});
