/**
 * The whole D1 schema, in one module. drizzle-kit generates `migrations/` from this file
 * (`npm run db:generate`); applied migrations are never edited — a change is a new migration.
 *
 * Conventions: integer primary keys (keyset pagination walks them newest-first), timestamps as
 * integer milliseconds since the epoch, JSON columns as text validated by zod on the way in.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

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
  },
  (t) => [uniqueIndex('users_username_unique').on(t.username), uniqueIndex('users_email_unique').on(t.email)],
);

/** A login session; its refresh tokens form one rotation family. Revoking it ends them all. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
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
    sessionId: text('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
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
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
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
    ownerId: integer('owner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
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
    workflowId: integer('workflow_id').notNull().references(() => workflows.id, { onDelete: 'cascade' }),
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
  },
  (t) => [index('audit_actor_idx').on(t.actorUserId, t.id), index('audit_action_idx').on(t.action, t.id)],
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
    workflowId: integer('workflow_id').notNull().references(() => workflows.id),
    workflowVersion: integer('workflow_version').notNull(),
    ownerId: integer('owner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
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
    runId: integer('run_id').notNull().references(() => runs.id, { onDelete: 'cascade' }),
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
    runId: integer('run_id').notNull().references(() => runs.id, { onDelete: 'cascade' }),
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
    ownerId: integer('owner_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
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
    documentId: integer('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    title: text('title').notNull(),
    content: text('content').notNull(),
    createdBy: integer('created_by'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.documentId, t.version] })],
);
