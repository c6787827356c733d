/** Run projections, their nodes and every node attempt (src/runs). */
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';
import { workflows } from './workflows';

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
    /** A fork's origin: the run it was forked from, the node it runs again from, and its per-node overrides. */
    forkedFromRunId: integer('forked_from_run_id'),
    forkedFromNode: text('forked_from_node'),
    forkOverrides: text('fork_overrides', { mode: 'json' }).$type<Record<string, Record<string, unknown>>>(),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    retries: integer('retries').notNull().default(0),
    /** USD spent by the run's calls at the prices in force when each ran (0 for the local provider). */
    costUsd: real('cost_usd').notNull().default(0),
    /** The run's own limits (the run request's, or its workflow settings'). */
    budget: text('budget', { mode: 'json' }).$type<{ max_cost_usd?: number; max_tokens?: number }>(),
    createdAt: integer('created_at').notNull().default(now),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('runs_idempotency_unique').on(t.ownerId, t.workflowId, t.idempotencyKey),
    index('runs_workflow_idx').on(t.workflowId, t.id),
    index('runs_owner_idx').on(t.ownerId, t.id),
    // A workflow's runs for its owner (GET /workflows/{id}/runs), whatever the planner's statistics.
    index('runs_owner_workflow_idx').on(t.ownerId, t.workflowId, t.id),
    index('runs_forked_from_idx').on(t.forkedFromRunId),
    index('runs_owner_created_idx').on(t.ownerId, t.createdAt),
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
    costUsd: real('cost_usd').notNull().default(0),
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
    /** USD at the price in force when it ran; null when the model's price is unknown. */
    costUsd: real('cost_usd'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.nodeId, t.attempt] })],
);
