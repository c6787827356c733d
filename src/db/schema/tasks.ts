/** Background tasks, their attempts and recorded effects, and webhook signing keys (src/tasks). */
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { users } from './auth';
import { now } from './columns';

export const TASK_TYPES = [
  'workflow_run',
  'webhook_call',
  'data_processing',
  'cleanup',
  'notification_delivery',
  'ml_train',
  'automation_run',
  'automation_fire',
  'document_export',
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
    // The list's filters (GET /tasks?status=|task_type=|priority=), each paged newest first.
    index('tasks_owner_status_idx').on(t.ownerId, t.status, t.id),
    index('tasks_owner_type_idx').on(t.ownerId, t.taskType, t.id),
    index('tasks_owner_priority_idx').on(t.ownerId, t.priority, t.id),
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
