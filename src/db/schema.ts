/**
 * The whole D1 schema, in one module. drizzle-kit generates `migrations/` from this file
 * (`npm run db:generate`); applied migrations are never edited — a change is a new migration.
 *
 * Conventions: integer primary keys (keyset pagination walks them newest-first), timestamps as
 * integer milliseconds since the epoch, JSON columns as text validated by zod on the way in.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const ROLES = ['admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

// Milliseconds since the epoch, as an integer, computed by SQLite at insert time.
const now = sql`(cast((julianday('now') - 2440587.5) * 86400000 as integer))`;

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    email: text('email').notNull(),
    fullName: text('full_name'),
    /** `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`: parameters travel with the hash. */
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    passwordChangedAt: integer('password_changed_at'),
  },
  (t) => [uniqueIndex('users_username_unique').on(t.username), uniqueIndex('users_email_unique').on(t.email)],
);

/** A login session; its refresh tokens form one rotation family. Revoking it ends them all. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    revokedReason: text('revoked_reason'),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    /** SHA-256 of the opaque token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    /** Set when the token is exchanged; a second exchange is reuse and revokes the session. */
    usedAt: integer('used_at'),
  },
  (t) => [uniqueIndex('refresh_tokens_hash_unique').on(t.tokenHash), index('refresh_tokens_session_idx').on(t.sessionId)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The first characters of the key, shown in listings so a user can tell keys apart. */
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_hash_unique').on(t.keyHash), index('api_keys_user_idx').on(t.userId)],
);

export const workflows = sqliteTable(
  'workflows',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    /** Current version; the full history is in workflow_versions. */
    version: integer('version').notNull().default(1),
    nodes: text('nodes', { mode: 'json' }).$type<unknown[]>().notNull(),
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    deletedAt: integer('deleted_at'),
  },
  (t) => [index('workflows_owner_idx').on(t.ownerId, t.id)],
);

/** Immutable snapshots: a run is pinned to one (workflow_id, version). */
export const workflowVersions = sqliteTable(
  'workflow_versions',
  {
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    nodes: text('nodes', { mode: 'json' }).$type<unknown[]>().notNull(),
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdBy: integer('created_by').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.workflowId, t.version] })],
);

/**
 * One row per auth event and per write, inserted in the same D1 batch as the change it
 * describes, so a change without its audit row (or the reverse) cannot exist.
 */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull().default(now),
    actorUserId: integer('actor_user_id'),
    actorApiKeyId: integer('actor_api_key_id'),
    action: text('action').notNull(),
    outcome: text('outcome', { enum: ['success', 'failure'] }).notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    requestId: text('request_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
    /** Hash of the previous sealed entry (or of the retention checkpoint it follows). */
    prevHash: text('prev_hash'),
    /** SHA-256 over prev_hash and this entry's canonical form; null until the chain sealer reaches it. */
    hash: text('hash'),
  },
  (t) => [
    index('audit_actor_idx').on(t.actorUserId, t.id),
    index('audit_action_idx').on(t.action, t.id),
    index('audit_at_idx').on(t.at),
    index('audit_target_idx').on(t.targetType, t.targetId, t.id),
  ],
);

/**
 * Where the verifiable chain starts after retention removed older entries: the id and hash of
 * the last removed entry, so the first remaining entry still links to something known.
 */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  uptoId: integer('upto_id').notNull(),
  hash: text('hash').notNull(),
  removed: integer('removed').notNull(),
  reason: text('reason').notNull(),
  createdAt: integer('created_at').notNull().default(now),
});

// ---- security (src/security, src/auth) ----------------------------------------------------

/** TOTP second factor: one per user. The secret is stored encrypted (src/security/encryption.ts). */
export const userMfa = sqliteTable('user_mfa', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretEnc: text('secret_enc').notNull(),
  /** Null while enrolment awaits its first code; MFA is enforced only once confirmed. */
  confirmedAt: integer('confirmed_at'),
  /** Highest TOTP time step accepted so far: a code is accepted once only. */
  lastStep: integer('last_step'),
  createdAt: integer('created_at').notNull().default(now),
});

/** One-time recovery codes, stored as SHA-256 hashes. */
export const mfaRecoveryCodes = sqliteTable(
  'mfa_recovery_codes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('mfa_recovery_codes_hash_unique').on(t.userId, t.codeHash)],
);

/** A password check passed and a second factor is awaited; single use, short-lived. */
export const loginChallenges = sqliteTable(
  'login_challenges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('login_challenges_hash_unique').on(t.tokenHash)],
);

/** Password reset: the token is delivered out of band; only its hash is stored. Single use. */
export const passwordResetTokens = sqliteTable(
  'password_reset_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    ip: text('ip'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('password_reset_tokens_hash_unique').on(t.tokenHash), index('password_reset_tokens_user_idx').on(t.userId)],
);

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

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Runs as D1 sees them: a projection written by each run's Durable Object, which is the single
 * writer of the run's state. D1 serves lists, analytics and idempotency; the object is the truth.
 */
export const runs = sqliteTable(
  'runs',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id),
    workflowVersion: integer('workflow_version').notNull(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: RUN_STATUSES }).notNull(),
    input: text('input', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    output: text('output', { mode: 'json' }).$type<Record<string, unknown>>(),
    error: text('error'),
    idempotencyKey: text('idempotency_key'),
    parentRunId: integer('parent_run_id'),
    parentNodeId: text('parent_node_id'),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    retries: integer('retries').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('runs_idempotency_unique').on(t.ownerId, t.workflowId, t.idempotencyKey),
    index('runs_workflow_idx').on(t.workflowId, t.id),
    index('runs_owner_idx').on(t.ownerId, t.id),
  ],
);

export const runNodes = sqliteTable(
  'run_nodes',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    nodeId: text('node_id').notNull(),
    type: text('type').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    durationMs: integer('duration_ms'),
    documentId: integer('document_id'),
    error: text('error'),
    provider: text('provider'),
    model: text('model'),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    contextCompacted: integer('context_compacted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId] })],
);

/** Every attempt of every node: when, how long, with which provider and model, and why it failed. */
export const nodeAttempts = sqliteTable(
  'node_attempts',
  {
    runId: integer('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    nodeId: text('node_id').notNull(),
    attempt: integer('attempt').notNull(),
    status: text('status', { enum: ['succeeded', 'failed', 'interrupted', 'cancelled'] }).notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at').notNull(),
    latencyMs: integer('latency_ms').notNull(),
    /** Backoff waited before this attempt started. */
    delayMs: integer('delay_ms').notNull().default(0),
    error: text('error'),
    retryable: integer('retryable', { mode: 'boolean' }),
    provider: text('provider'),
    model: text('model'),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId, t.attempt] })],
);

export const DOCUMENT_KINDS = ['node', 'continuation', 'manual'] as const;

/** Documents: what nodes generate, continuations of them, and their edits (as versions). */
export const documents = sqliteTable(
  'documents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id'),
    runId: integer('run_id'),
    nodeId: text('node_id'),
    parentId: integer('parent_id'),
    kind: text('kind', { enum: DOCUMENT_KINDS }).notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    version: integer('version').notNull().default(1),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    // A node's document is created once per run, however often its projection is retried.
    uniqueIndex('documents_run_node_unique').on(t.runId, t.nodeId).where(sql`kind = 'node'`),
    index('documents_owner_idx').on(t.ownerId, t.id),
    index('documents_parent_idx').on(t.parentId),
  ],
);

export const documentVersions = sqliteTable(
  'document_versions',
  {
    documentId: integer('document_id')
      .notNull()
      .references(() => documents.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.version] })],
);

// ---- background tasks (src/tasks) ---------------------------------------------------------

export const TASK_TYPES = [
  'workflow_run',
  'webhook_call',
  'data_processing',
  'cleanup',
  'notification_delivery',
  'ml_train',
  'automation_run',
  'automation_fire',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];
export const TASK_PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];
export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'retrying', 'cancelled', 'timed_out', 'dead'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * A background task. The row is the truth about a task; the queue only carries its id. Every
 * state change is a compare-and-set on (status, attempts), so a message delivered twice, or a
 * late attempt after a cancel, cannot move a task backwards.
 */
export const tasks = sqliteTable(
  'tasks',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    taskType: text('task_type', { enum: TASK_TYPES }).notNull(),
    priority: text('priority', { enum: TASK_PRIORITIES }).notNull(),
    status: text('status', { enum: TASK_STATUSES }).notNull(),
    payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    result: text('result', { mode: 'json' }).$type<unknown>(),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    maxRetries: integer('max_retries').notNull(),
    timeoutSeconds: integer('timeout_seconds').notNull(),
    delaySeconds: integer('delay_seconds').notNull().default(0),
    idempotencyKey: text('idempotency_key'),
    /** When the task may start (creation + delay); waits are measured from here. */
    runAfter: integer('run_after').notNull(),
    /** Order in which the dispatcher released the task to the queue. */
    dispatchSeq: integer('dispatch_seq'),
    /** workflow_run: the run started, then watched until it ends. */
    runId: integer('run_id'),
    watchSeq: integer('watch_seq').notNull().default(0),
    scheduleId: integer('schedule_id'),
    scheduleFireId: integer('schedule_fire_id'),
    /** A running or retrying task whose lease has passed was lost; the reconcile re-sends it. */
    leaseUntil: integer('lease_until'),
    nextRetryAt: integer('next_retry_at'),
    deadlineAt: integer('deadline_at'),
    createdAt: integer('created_at').notNull().default(now),
    firstStartedAt: integer('first_started_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('tasks_idempotency_unique').on(t.ownerId, t.idempotencyKey),
    uniqueIndex('tasks_schedule_fire_unique').on(t.scheduleFireId),
    index('tasks_owner_idx').on(t.ownerId, t.id),
    index('tasks_status_idx').on(t.status, t.leaseUntil),
    index('tasks_schedule_idx').on(t.scheduleId, t.status),
    index('tasks_finished_idx').on(t.finishedAt),
  ],
);

/** One row per finished attempt: when, how it ended, and the backoff chosen before the next. */
export const taskAttempts = sqliteTable(
  'task_attempts',
  {
    taskId: integer('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    status: text('status', { enum: ['succeeded', 'failed', 'timed_out', 'cancelled'] }).notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at').notNull(),
    error: text('error'),
    retryDelaySeconds: integer('retry_delay_seconds'),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.attempt] })],
);

/**
 * The effects a task has had, keyed by (task, effect): written in the same D1 batch as the
 * effect itself (or, for an outbound call, right after it), so a redelivered message finds the
 * effect already done instead of doing it again.
 */
export const taskEffects = sqliteTable(
  'task_effects',
  {
    taskId: integer('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    effect: text('effect').notNull(),
    at: integer('at').notNull().default(now),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [primaryKey({ columns: [t.taskId, t.effect] })],
);

/** Per-user HMAC key for webhook_call signatures (Standard Webhooks `whsec_…`). */
export const webhookSecrets = sqliteTable('webhook_secrets', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secret: text('secret').notNull(),
  createdAt: integer('created_at').notNull().default(now),
});

// ---- schedules (src/scheduler) ------------------------------------------------------------

export const SCHEDULE_KINDS = ['cron', 'interval', 'daily', 'weekly', 'monthly'] as const;
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow', 'cancel_previous'] as const;
export const FIRE_OUTCOMES = ['launched', 'recorded', 'skipped', 'buffered', 'missed'] as const;

export const schedules = sqliteTable(
  'schedules',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    kind: text('kind', { enum: SCHEDULE_KINDS }).notNull(),
    /** The cron pattern fires are computed from (given, or derived for daily/weekly/monthly). */
    cronExpression: text('cron_expression'),
    everySeconds: integer('every_seconds'),
    /** Interval schedules fire at anchor + k × every. */
    anchorAt: integer('anchor_at'),
    /** The kind's own fields as given (time, weekdays, day_of_month). */
    spec: text('spec', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    timezone: text('timezone').notNull(),
    target: text('target', { mode: 'json' }).$type<Record<string, unknown> | null>(),
    overlap: text('overlap', { enum: OVERLAP_POLICIES }).notNull(),
    jitterSeconds: integer('jitter_seconds').notNull().default(0),
    catchUpSeconds: integer('catch_up_seconds').notNull(),
    maxRetries: integer('max_retries').notNull(),
    pauseAfterFailures: integer('pause_after_failures'),
    state: text('state', { enum: ['active', 'paused'] }).notNull(),
    pausedReason: text('paused_reason'),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** The next nominal fire time, and when it is due once jitter is added. */
    nextFireAt: integer('next_fire_at'),
    nextRunAt: integer('next_run_at'),
    lastFireAt: integer('last_fire_at'),
    /** Bumped by every change of timing or state; a tick computed on an older version writes nothing. */
    version: integer('version').notNull().default(1),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('schedules_owner_idx').on(t.ownerId, t.id), index('schedules_due_idx').on(t.state, t.nextRunAt)],
);

/**
 * The fire ledger. Its unique (schedule, manual, fire time) key is what makes a fire happen once:
 * whoever inserts the row (the object's alarm or the cron reconcile) fires, the other finds it.
 */
export const scheduleFires = sqliteTable(
  'schedule_fires',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    scheduleId: integer('schedule_id')
      .notNull()
      .references(() => schedules.id, { onDelete: 'cascade' }),
    ownerId: integer('owner_id').notNull(),
    manual: integer('manual', { mode: 'boolean' }).notNull().default(false),
    fireAt: integer('fire_at').notNull(),
    /** fire_at plus this fire's jitter: when it was meant to start. */
    dueAt: integer('due_at').notNull(),
    firedAt: integer('fired_at').notNull(),
    source: text('source', { enum: ['alarm', 'cron', 'manual', 'buffer'] }).notNull(),
    outcome: text('outcome', { enum: FIRE_OUTCOMES }).notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [
    uniqueIndex('schedule_fires_unique').on(t.scheduleId, t.manual, t.fireAt),
    index('schedule_fires_schedule_idx').on(t.scheduleId, t.id),
    index('schedule_fires_owner_idx').on(t.ownerId, t.firedAt),
  ],
);

// ---- notifications (src/notifications) -----------------------------------------------------

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
    index('notification_deliveries_batch_idx').on(t.batchId),
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

// ---- metrics (src/metrics) -----------------------------------------------------------------

// ---- analytics (src/analytics) -------------------------------------------------------------

/**
 * Events that no other table records: API-key use (one row per key per minute) and the custom
 * events clients post. Every other event type is counted from the rows that already record it
 * (src/analytics/catalogue.ts), so nothing is counted twice. `dedupe_key` makes a retried write
 * or a re-posted client event store nothing new.
 */
export const analyticsEvents = sqliteTable(
  'analytics_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    type: text('type').notNull(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id'),
    at: integer('at').notNull(),
    properties: text('properties', { mode: 'json' }).$type<Record<string, unknown>>(),
    dedupeKey: text('dedupe_key').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('analytics_events_dedupe_unique').on(t.dedupeKey),
    index('analytics_events_at_idx').on(t.at),
    index('analytics_events_user_idx').on(t.userId, t.at),
  ],
);

// ---- cache (src/cache) ---------------------------------------------------------------------

// ---- machine learning (src/ml) -------------------------------------------------------------

export const ML_MODEL_TYPES = ['classification', 'regression', 'clustering'] as const;
export type MlModelType = (typeof ML_MODEL_TYPES)[number];
export const ML_ALGORITHMS = ['random_forest', 'decision_tree', 'logistic_regression', 'linear_regression', 'knn', 'kmeans'] as const;
export type MlAlgorithm = (typeof ML_ALGORITHMS)[number];
export const ML_VERSION_STATUSES = ['training', 'ready', 'failed'] as const;

/** A model: what to learn and how. Its trained, immutable artefacts are its versions. */
export const mlModels = sqliteTable(
  'ml_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    modelType: text('model_type', { enum: ML_MODEL_TYPES }).notNull(),
    algorithm: text('algorithm', { enum: ML_ALGORITHMS }).notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** The version predictions use by default; null until one is trained or deployed. */
    activeVersion: integer('active_version'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('ml_models_owner_idx').on(t.ownerId, t.id)],
);

/**
 * One training run's result. A ready version is immutable: its model JSON
 * (ml_model_blobs), encoding and metrics are written once. At most one version per model is
 * `training` at a time (the partial unique index), which serialises background trains.
 */
export const mlModelVersions = sqliteTable(
  'ml_model_versions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    status: text('status', { enum: ML_VERSION_STATUSES }).notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    targetColumn: text('target_column'),
    testSize: real('test_size').notNull(),
    randomState: integer('random_state').notNull(),
    /** How many stored training rows (in order) this version was trained from. */
    dataRows: integer('data_rows').notNull(),
    encoding: text('encoding', { mode: 'json' }).$type<unknown>(),
    metrics: text('metrics', { mode: 'json' }).$type<unknown>(),
    split: text('split', { mode: 'json' }).$type<unknown>(),
    taskId: integer('task_id'),
    error: text('error'),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('ml_model_versions_unique').on(t.modelId, t.version),
    uniqueIndex('ml_model_versions_one_training').on(t.modelId).where(sql`status = 'training'`),
  ],
);

/** A version's serialised model (the library's toJSON), in parts that stay under D1's row size. */
export const mlModelBlobs = sqliteTable(
  'ml_model_blobs',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    part: integer('part').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.version, t.part] })],
);

/** A model's stored training rows, in chunks of JSON arrays, ordered by `seq`. */
export const mlTrainingChunks = sqliteTable(
  'ml_training_chunks',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    rowCount: integer('row_count').notNull(),
    rows: text('rows', { mode: 'json' }).$type<unknown[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.seq] })],
);

/** One row per predict call, so prediction counts are counted, not kept in memory. */
export const mlPredictions = sqliteTable(
  'ml_predictions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    modelId: integer('model_id')
      .notNull()
      .references(() => mlModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    userId: integer('user_id'),
    rowCount: integer('row_count').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('ml_predictions_model_idx').on(t.modelId, t.createdAt)],
);

// ---- recommendations (src/recommendations) -------------------------------------------------

export const REC_INTERACTION_TYPES = ['view', 'like', 'purchase', 'rating'] as const;
export const REC_ALGORITHMS = ['user_based_cf', 'item_based_cf', 'matrix_factorization', 'content_based', 'hybrid', 'popularity'] as const;

/**
 * One user-item event. `user_key`/`item_key` are the client's own ids, scoped to the owning
 * account (each account has its own recommendation dataset). `weight` is fixed at write time from
 * the type (src/recommendations/weights.ts), so a later change of weights never rewrites history.
 * `event_id`, when the client sends one, makes a retried POST store nothing new.
 */
export const recInteractions = sqliteTable(
  'rec_interactions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    userKey: text('user_key').notNull(),
    itemKey: text('item_key').notNull(),
    type: text('type', { enum: REC_INTERACTION_TYPES }).notNull(),
    rating: real('rating'),
    weight: real('weight').notNull(),
    eventId: text('event_id'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [
    index('rec_interactions_user_idx').on(t.ownerId, t.userKey),
    index('rec_interactions_item_idx').on(t.ownerId, t.itemKey),
    uniqueIndex('rec_interactions_event_unique').on(t.ownerId, t.eventId),
  ],
);

/** An item's features and free text, upserted by (owner, item key). */
export const recItems = sqliteTable(
  'rec_items',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    itemKey: text('item_key').notNull(),
    features: text('features', { mode: 'json' }).$type<Record<string, string | number | boolean>>().notNull(),
    content: text('content').notNull().default(''),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  // The updated_at index serves a content model's "items changed since training" read per request.
  (t) => [primaryKey({ columns: [t.ownerId, t.itemKey] }), index('rec_items_updated_idx').on(t.ownerId, t.updatedAt)],
);

/**
 * Live popularity: the sum and count of an owner's interaction weights per item. Maintained only
 * by SQLite triggers on rec_interactions (migrations/0009_recommendation_popularity.sql), in the
 * same transaction as the interaction write, so it is exact; the application only reads it.
 */
export const recItemPopularity = sqliteTable(
  'rec_item_popularity',
  {
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    itemKey: text('item_key').notNull(),
    total: real('total').notNull().default(0),
    count: integer('count').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.itemKey] }),
    index('rec_item_popularity_rank_idx').on(t.ownerId, sql`${t.total} desc`, t.itemKey),
  ],
);

/** A recommendation model; `version` counts trainings, 0 = never trained. */
export const recModels = sqliteTable(
  'rec_models',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    algorithm: text('algorithm', { enum: REC_ALGORITHMS }).notNull(),
    recommendationType: text('recommendation_type').notNull(),
    parameters: text('parameters', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    version: integer('version').notNull().default(0),
    trainedAt: integer('trained_at'),
    trainingSummary: text('training_summary', { mode: 'json' }).$type<Record<string, unknown>>(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('rec_models_owner_idx').on(t.ownerId, t.id)],
);

/**
 * A trained artefact, JSON split into chunks of at most 500 000 characters (≤ 1.5 MB of UTF-8, since
 * item keys are ASCII and a UTF-16 unit encodes to at most 3 bytes) so no row nears D1's
 * 2 MB row/value limit. (model, version) identifies one training; seq orders its chunks.
 */
export const recModelChunks = sqliteTable(
  'rec_model_chunks',
  {
    modelId: integer('model_id')
      .notNull()
      .references(() => recModels.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    seq: integer('seq').notNull(),
    data: text('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.version, t.seq] })],
);

// ---- automations (src/automations) ---------------------------------------------------------

export const AUTOMATION_TRIGGERS = ['api_call', 'event_based', 'webhook', 'scheduled', 'threshold'] as const;
export type AutomationTrigger = (typeof AUTOMATION_TRIGGERS)[number];
export const EXECUTION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'skipped', 'refused'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** A user's automation: a trigger, its conditions, and the actions it runs in order. */
export const automations = sqliteTable(
  'automations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    triggerType: text('trigger_type', { enum: AUTOMATION_TRIGGERS }).notNull(),
    trigger: text('trigger', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    actions: text('actions', { mode: 'json' }).$type<Record<string, unknown>[]>().notNull(),
    aiDecisionMaking: integer('ai_decision_making', { mode: 'boolean' }).notNull().default(false),
    learningEnabled: integer('learning_enabled', { mode: 'boolean' }).notNull().default(false),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    /** A webhook trigger's HMAC secret, sealed with sealFor (AAD automations:<id>:webhook_secret). */
    webhookSecret: text('webhook_secret'),
    /** A scheduled trigger's schedule (src/scheduler), whose fires submit automation_fire tasks. */
    scheduleId: integer('schedule_id'),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [index('automations_owner_idx').on(t.ownerId, t.triggerType)],
);

/**
 * One firing of an automation. (automation, event_id) is unique: an event delivered twice (a
 * run's projection flushed again, a retried request) finds the execution the first made.
 */
export const automationExecutions = sqliteTable(
  'automation_executions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    automationId: integer('automation_id')
      .notNull()
      .references(() => automations.id, { onDelete: 'cascade' }),
    ownerId: integer('owner_id').notNull(),
    eventId: text('event_id').notNull(),
    status: text('status', { enum: EXECUTION_STATUSES }).notNull(),
    triggerData: text('trigger_data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    context: text('context', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    depth: integer('depth').notNull().default(0),
    originAutomationId: integer('origin_automation_id'),
    taskId: integer('task_id'),
    /** How the action order was chosen: declared, by the AI step, or the fallback after it failed. */
    decision: text('decision', { mode: 'json' }).$type<{ source: string; order: number[]; reason: string | null }>(),
    error: text('error'),
    createdAt: integer('created_at').notNull().default(now),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('automation_executions_event_unique').on(t.automationId, t.eventId),
    index('automation_executions_owner_idx').on(t.ownerId, t.id),
  ],
);

/**
 * One action of one execution: written `started` before the effect and finished after it, so a
 * redelivered execution task knows which effects already happened. `effect_ref` names what the
 * action made (`run:12`, `task:7`) so events from it can be traced back to this execution.
 */
export const automationActionResults = sqliteTable(
  'automation_action_results',
  {
    executionId: integer('execution_id')
      .notNull()
      .references(() => automationExecutions.id, { onDelete: 'cascade' }),
    actionIndex: integer('action_index').notNull(),
    actionType: text('action_type').notNull(),
    status: text('status', { enum: ['started', 'succeeded', 'failed'] }).notNull(),
    output: text('output', { mode: 'json' }).$type<unknown>(),
    error: text('error'),
    effectRef: text('effect_ref'),
    startedAt: integer('started_at').notNull(),
    durationMs: integer('duration_ms'),
  },
  (t) => [primaryKey({ columns: [t.executionId, t.actionIndex] }), index('automation_action_results_effect_idx').on(t.effectRef)],
);

// ---- ai workflows (src/ai-workflows) -------------------------------------------------------

/**
 * An AI workflow is an ordinary workflow built from a template, plus what the template was given:
 * its stored `input_data` is the input of every run `execute` starts. `id` is the public
 * `ai_workflow_<id>` number (global, like workflow ids).
 */
export const aiWorkflows = sqliteTable(
  'ai_workflows',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workflowId: integer('workflow_id')
      .notNull()
      .references(() => workflows.id, { onDelete: 'cascade' }),
    template: text('template').notNull(),
    workflowType: text('workflow_type').notNull(),
    provider: text('provider').notNull(),
    model: text('model'),
    inputData: text('input_data', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('ai_workflows_workflow_unique').on(t.workflowId), index('ai_workflows_owner_idx').on(t.ownerId, t.id)],
);
