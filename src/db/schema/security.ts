/** Security events, rate-limit policies and IP rules (src/security). */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { apiKeys } from './auth';
import { now } from './columns';

export const SECURITY_EVENT_TYPES = [
  'login_failure_burst',
  'refresh_token_reuse',
  'rate_limit_exceeded',
  'mfa_failure',
  'access_denied_spike',
  'ip_blocked',
  'password_reset_requested',
  'password_changed',
  'mfa_enabled',
  'mfa_disabled',
  'recovery_code_used',
] as const;
export type SecurityEventType = (typeof SECURITY_EVENT_TYPES)[number];
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Security-relevant occurrences, with severity; high and critical ones alert the admins. */
export const securityEvents = sqliteTable(
  'security_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull().default(now),
    type: text('type', { enum: SECURITY_EVENT_TYPES }).notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    userId: integer('user_id'),
    ip: text('ip'),
    /** Groups repeats (e.g. `login:alice`): one burst event per key and window, not one per failure. */
    dedupeKey: text('dedupe_key'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    index('security_events_at_idx').on(t.at),
    index('security_events_type_idx').on(t.type, t.id),
    index('security_events_user_idx').on(t.userId, t.id),
    index('security_events_ip_idx').on(t.ip, t.id),
    uniqueIndex('security_events_dedupe_unique').on(t.dedupeKey),
  ],
);

export const LIMIT_SUBJECTS = ['user', 'api_key', 'ip'] as const;
export const ROUTE_CLASSES = ['all', 'read', 'write', 'ai', 'auth'] as const;

/** Request rate policies, counted exactly by the RateLimiter objects. Admin-editable. */
export const rateLimitPolicies = sqliteTable(
  'rate_limit_policies',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    name: text('name').notNull(),
    subject: text('subject', { enum: LIMIT_SUBJECTS }).notNull(),
    routeClass: text('route_class', { enum: ROUTE_CLASSES }).notNull(),
    limit: integer('limit').notNull(),
    windowSeconds: integer('window_seconds').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    updatedBy: integer('updated_by'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [uniqueIndex('rate_limit_policies_name_unique').on(t.name)],
);

/** CIDR allow/deny rules: global (api_key_id null) or for one API key. */
export const ipRules = sqliteTable(
  'ip_rules',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    action: text('action', { enum: ['allow', 'deny'] }).notNull(),
    cidr: text('cidr').notNull(),
    apiKeyId: integer('api_key_id').references(() => apiKeys.id, { onDelete: 'cascade' }),
    note: text('note'),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('ip_rules_key_idx').on(t.apiKeyId)],
);

/**
 * Run objects whose run row is gone (its owner's `cleanup` task, or the owner's account deleted),
 * filled by the trigger `runs_purge_storage` (migration 0018, so every way a row goes is caught,
 * cascades included) and emptied by the retention cron once the object's storage is deleted:
 * Durable Objects cannot be listed, so this is how the cron finds them.
 */
export const runStoragePurges = sqliteTable('run_storage_purges', {
  runId: integer('run_id').primaryKey(),
  deletedAt: integer('deleted_at').notNull().default(now),
});
