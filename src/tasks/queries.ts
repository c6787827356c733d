import { and, asc, desc, eq, inArray, lt, notInArray, sql } from 'drizzle-orm';
import { auditIfChanged, type RequestMeta } from '../lib/audit';
import { type DB, runBatch, type Stmt } from '../db/client';
import { taskAttempts, tasks, type TaskPriority, type TaskStatus, type TaskType } from '../db/schema';
import { ApiError } from '../lib/errors';
import { log } from '../lib/log';
import { MAX_BACKLOG_PER_USER } from './dispatch';
import { TERMINAL, type TaskRow } from './lifecycle';
import { validatePayload } from './payloads';
import { afterEnd, taskWiring } from './registry';
import type { SubmitBody } from './schemas';
import { toIso, toIsoOrNull } from '../lib/time';
import { dispatcher } from './rpc';

export function taskView(t: TaskRow, attempts?: (typeof taskAttempts.$inferSelect)[]) {
  return {
    id: t.id,
    name: t.name,
    task_type: t.taskType,
    priority: t.priority,
    status: t.status,
    payload: t.payload,
    result: t.result ?? null,
    error: t.error,
    attempts: t.attempts,
    max_retries: t.maxRetries,
    timeout_seconds: t.timeoutSeconds,
    delay_seconds: t.delaySeconds,
    idempotency_key: t.idempotencyKey,
    run_id: t.runId,
    schedule_id: t.scheduleId,
    created_at: toIso(t.createdAt),
    run_after: toIso(t.runAfter),
    started_at: toIsoOrNull(t.firstStartedAt),
    finished_at: toIsoOrNull(t.finishedAt),
    next_retry_at: t.status === 'retrying' ? toIsoOrNull(t.nextRetryAt) : null,
    ...(attempts
      ? {
          attempt_log: attempts.map((a) => ({
            attempt: a.attempt,
            status: a.status,
            started_at: toIso(a.startedAt),
            finished_at: toIso(a.finishedAt),
            error: a.error,
            retry_delay_seconds: a.retryDelaySeconds,
          })),
        }
      : {}),
  };
}

/** What a new task row holds, for a submission or a schedule's fire. */
export type NewTask = {
  name: string;
  taskType: TaskType;
  priority: TaskPriority;
  payload: Record<string, unknown>;
  delaySeconds: number;
  timeoutSeconds: number;
  maxRetries: number;
};

const same = (a: TaskRow, b: NewTask) =>
  a.name === b.name &&
  a.taskType === b.taskType &&
  a.priority === b.priority &&
  a.delaySeconds === b.delaySeconds &&
  a.timeoutSeconds === b.timeoutSeconds &&
  a.maxRetries === b.maxRetries &&
  JSON.stringify(a.payload) === JSON.stringify(b.payload);

/** Hands new tasks to the dispatcher (idempotent: it ignores tasks it knows). */
export async function enqueueTasks(env: Env, rows: Pick<TaskRow, 'id' | 'ownerId' | 'priority' | 'runAfter'>[]): Promise<void> {
  if (rows.length)
    await dispatcher(env).enqueue(rows.map((r) => ({ taskId: r.id, ownerId: r.ownerId, priority: r.priority, eligibleAt: r.runAfter })));
}

/**
 * Validates and stores tasks, then hands them to the dispatcher. All-or-nothing: one invalid
 * task refuses the whole request before anything is written. A task whose idempotency key was
 * used before returns the earlier task (409 if the submission differs).
 */
export async function submitTasks(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  bodies: SubmitBody[],
): Promise<{ task: TaskRow; created: boolean }[]> {
  const prepared: (NewTask & { key: string | null })[] = [];
  for (const [i, b] of bodies.entries()) {
    const prefix = bodies.length > 1 ? ['tasks', i, 'payload'] : ['payload'];
    const payload = await validatePayload(env, db, ownerId, b.task_type, b.payload, prefix);
    prepared.push({
      name: b.name,
      taskType: b.task_type,
      priority: b.priority,
      payload,
      delaySeconds: b.delay_seconds,
      timeoutSeconds: b.timeout_seconds,
      maxRetries: b.max_retries,
      key: b.idempotency_key ?? null,
    });
  }
  const keys = prepared.map((p) => p.key).filter((k): k is string => k !== null);
  if (new Set(keys).size !== keys.length)
    throw new ApiError('validation_error', 'Request validation failed', {
      details: [{ path: ['tasks'], code: 'custom', message: 'idempotency keys must be unique within one request' }],
    });
  const existing = keys.length
    ? await db
        .select()
        .from(tasks)
        .where(and(eq(tasks.ownerId, ownerId), inArray(tasks.idempotencyKey, keys)))
        .all()
    : [];
  const byKey = new Map(existing.map((t) => [t.idempotencyKey!, t]));
  for (const p of prepared) {
    const prior = p.key ? byKey.get(p.key) : undefined;
    if (prior && !same(prior, p)) throw new ApiError('conflict', `The idempotency key "${p.key}" was already used with a different task`);
  }
  const fresh = prepared.filter((p) => !(p.key && byKey.has(p.key)));
  const backlog = await db.get<{ n: number }>(
    sql`SELECT count(*) AS n FROM tasks WHERE owner_id = ${ownerId} AND status IN ('queued', 'retrying')`,
  );
  if ((backlog?.n ?? 0) + fresh.length > MAX_BACKLOG_PER_USER) {
    throw new ApiError('rate_limited', `At most ${MAX_BACKLOG_PER_USER} tasks may wait at once; let some finish first`, {
      headers: { 'Retry-After': '60' },
    });
  }
  const now = Date.now();
  const statements: Stmt[] = fresh.flatMap((p) => [
    db
      .insert(tasks)
      .values({
        ownerId,
        status: 'queued',
        idempotencyKey: p.key,
        runAfter: now + p.delaySeconds * 1000,
        createdAt: now,
        updatedAt: now,
        ...withoutKey(p),
      })
      .onConflictDoNothing()
      .returning(),
    auditIfChanged(db, meta, {
      action: 'task.submit',
      targetType: 'task',
      targetId: sql`(SELECT CAST(max(id) AS TEXT) FROM tasks)`,
      details: { task_type: p.taskType, priority: p.priority },
    }),
  ]);
  const results = statements.length ? await runBatch(db, statements) : [];
  const inserted = results.filter((_, i) => i % 2 === 0).map((r) => (r as TaskRow[])[0]);
  try {
    await enqueueTasks(
      env,
      inserted.filter((t): t is TaskRow => t !== undefined),
    );
  } catch (err) {
    // The tasks are stored; the minute-by-minute reconcile hands them to the dispatcher.
    log(env.LOG_LEVEL, 'warn', 'could not reach the task dispatcher; the cron reconcile will enqueue', {
      error: err instanceof Error ? err.message : String(err),
    });
  }

  let n = 0;
  const out: { task: TaskRow; created: boolean }[] = [];
  for (const p of prepared) {
    const prior = p.key ? byKey.get(p.key) : undefined;
    if (prior) out.push({ task: prior, created: false });
    else {
      const row = inserted[n++];
      // A concurrent request with the same key won the insert: answer with its task.
      const task =
        row ??
        (await db
          .select()
          .from(tasks)
          .where(and(eq(tasks.ownerId, ownerId), eq(tasks.idempotencyKey, p.key!)))
          .get());
      if (!task) throw new Error('submitted task vanished');
      out.push({ task, created: row !== undefined });
    }
  }
  return out;
}

const withoutKey = ({ key: _key, ...rest }: NewTask & { key: string | null }): NewTask => rest;

export async function getTask(db: DB, ownerId: number, id: number) {
  const row = await db
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, id), eq(tasks.ownerId, ownerId)))
    .get();
  // Another user's task is "not found", exactly like a missing one.
  if (!row) throw new ApiError('not_found', 'Task not found');
  const attempts = await db.select().from(taskAttempts).where(eq(taskAttempts.taskId, id)).orderBy(asc(taskAttempts.attempt)).all();
  return taskView(row, attempts);
}

export async function listTasks(
  db: DB,
  ownerId: number,
  q: { status?: TaskStatus | undefined; task_type?: TaskType | undefined; priority?: TaskPriority | undefined },
  limit: number,
  before: number | undefined,
) {
  return db
    .select()
    .from(tasks)
    .where(
      and(
        eq(tasks.ownerId, ownerId),
        q.status ? eq(tasks.status, q.status) : undefined,
        q.task_type ? eq(tasks.taskType, q.task_type) : undefined,
        q.priority ? eq(tasks.priority, q.priority) : undefined,
        before ? lt(tasks.id, before) : undefined,
      ),
    )
    .orderBy(desc(tasks.id))
    .limit(limit + 1)
    .all();
}

export type CancelOutcome = { id: number; outcome: 'cancelled' | 'already_finished' | 'not_found'; status: TaskStatus | null };

/**
 * Cancels the owner's unfinished tasks among `ids`. A running attempt is not interrupted, but
 * its result is discarded (its finishing write no longer matches); what a task handed off (a
 * workflow_run task's run) is cancelled too, by its handler. Tasks of other users are reported
 * not_found. `notifyEnded: false` skips the end-of-task hooks' calls (the scheduler's own timer
 * cancels tasks from inside itself, and must not call itself back).
 */
export async function cancelTasks(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  ids: number[],
  reason = 'cancelled by request',
  notifyEnded = true,
): Promise<CancelOutcome[]> {
  const now = Date.now();
  const [cancelled] = await db.batch([
    db
      .update(tasks)
      .set({ status: 'cancelled', error: reason, finishedAt: now, leaseUntil: null, nextRetryAt: null, updatedAt: now })
      .where(and(inArray(tasks.id, ids), eq(tasks.ownerId, ownerId), notInArray(tasks.status, TERMINAL)))
      .returning(),
    auditIfChanged(db, meta, {
      action: 'task.cancel',
      targetType: 'task',
      targetId: ids.length === 1 ? ids[0]! : undefined,
      details: { task_ids: ids },
    }),
  ]);
  const done = new Set(cancelled.map((t) => t.id));
  if (cancelled.length) {
    await dispatcher(env).release([...done]);
    const { handlers } = taskWiring();
    for (const t of cancelled) await handlers[t.taskType].cancel?.(env, t, reason);
    // For example, a buffered fire of the task's schedule may start now.
    if (notifyEnded) await afterEnd(env, cancelled);
  }
  const others = await db
    .select({ id: tasks.id, status: tasks.status })
    .from(tasks)
    .where(and(inArray(tasks.id, ids), eq(tasks.ownerId, ownerId)))
    .all();
  const status = new Map(others.map((o) => [o.id, o.status]));
  return ids.map((id) => ({
    id,
    outcome: done.has(id) ? 'cancelled' : status.has(id) ? 'already_finished' : 'not_found',
    status: status.get(id) ?? null,
  }));
}
