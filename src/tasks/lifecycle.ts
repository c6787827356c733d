import { and, eq, inArray, isNotNull, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { preparedOnce, type DB, type Stmt } from '../db/client';
import { taskAttempts, taskEffects, tasks, type TaskStatus } from '../db/schema';
import { endStatements, type TaskRow } from './registry';

/*
 * Every task state change is a compare-and-set on the row: a claim moves queued/retrying to
 * running and takes an attempt number; everything after is conditioned on (running, that
 * attempt). Queues delivers at least once, so two deliveries of one message can race; only one
 * claim wins, and a stale attempt's writes match no row.
 */
export const TERMINAL: TaskStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'dead'];
export type { TaskRow } from './registry';

/** A lease covers the attempt plus this margin; past it, the reconcile treats the attempt as lost. */
const LEASE_MARGIN_MS = 60_000;
/** How long a task may sit between its last failed attempt and the dead-letter consumer. */
export const DEAD_LETTER_GRACE_MS = 10 * 60_000;

const running = (t: TaskRow) => and(eq(tasks.id, t.id), eq(tasks.status, 'running'), eq(tasks.attempts, t.attempts));

/** The claim below, built once per database instance: it runs for every task message. */
const claimQuery = preparedOnce((db) => {
  const now = sql.placeholder('now');
  return db
    .update(tasks)
    .set({
      status: 'running',
      attempts: sql`${tasks.attempts} + 1`,
      startedAt: sql`${now}`,
      firstStartedAt: sql`coalesce(${tasks.firstStartedAt}, ${now})`,
      deadlineAt: sql`coalesce(${tasks.deadlineAt}, ${now} + ${tasks.timeoutSeconds} * 1000)`,
      leaseUntil: sql`${now} + ${tasks.timeoutSeconds} * 1000 + ${LEASE_MARGIN_MS}`,
      dispatchSeq: sql`coalesce(${tasks.dispatchSeq}, ${sql.placeholder('seq')})`,
      nextRetryAt: null,
      updatedAt: sql`${now}`,
    })
    .where(
      and(
        eq(tasks.id, sql.placeholder('taskId')),
        isNull(tasks.runId),
        sql`${tasks.attempts} <= ${tasks.maxRetries}`,
        or(isNull(tasks.deadlineAt), sql`${tasks.deadlineAt} > ${now}`),
        // A retrying task is claimable only once its retry time has come: Queues deliver at least
        // once, and a copy of a message (or a re-sent one) must not run the attempt before the wait
        // the backoff or the provider's Retry-After set. Checked here, in the one UPDATE, so no
        // read-then-write race can let an early delivery through.
        or(
          eq(tasks.status, 'queued'),
          and(eq(tasks.status, 'retrying'), or(isNull(tasks.nextRetryAt), sql`${tasks.nextRetryAt} <= ${now}`)),
          and(eq(tasks.status, 'running'), sql`${tasks.leaseUntil} < ${now}`),
        ),
      ),
    )
    .returning()
    .prepare();
});

/** Takes the next attempt of a task, or returns null if this delivery must not run it. */
export async function claimAttempt(db: DB, taskId: number, seq: number, now: number): Promise<TaskRow | null> {
  const [row] = await claimQuery(db).all({ taskId, seq: seq || null, now });
  return row ?? null;
}

/** A task whose time budget ran out between attempts ends timed_out without another attempt. */
export function expireStatement(db: DB, taskId: number, now: number) {
  return db
    .update(tasks)
    .set({
      status: 'timed_out',
      error: 'the task ran out of its time budget (timeout_seconds) before another attempt',
      finishedAt: now,
      leaseUntil: null,
      updatedAt: now,
    })
    .where(
      and(
        eq(tasks.id, taskId),
        inArray(tasks.status, ['queued', 'retrying']),
        isNotNull(tasks.deadlineAt),
        sql`${tasks.deadlineAt} <= ${now}`,
      ),
    )
    .returning();
}

function attemptRow(
  db: DB,
  t: TaskRow,
  now: number,
  status: 'succeeded' | 'failed' | 'timed_out' | 'cancelled',
  error: string | null,
  retryDelaySeconds: number | null = null,
) {
  return db
    .insert(taskAttempts)
    .values({ taskId: t.id, attempt: t.attempts, status, startedAt: t.startedAt ?? now, finishedAt: now, error, retryDelaySeconds })
    .onConflictDoNothing();
}

export type Effect = { effect: string; detail: Record<string, unknown> | SQL | null };

export function effectInsert(db: DB, taskId: number, e: Effect) {
  return db
    .insert(taskEffects)
    .values({ taskId, effect: e.effect, detail: e.detail as Record<string, unknown> | null })
    .onConflictDoNothing();
}

/** Statements ending the current attempt with a final status, to run in one batch. */
export function finishStatements(
  db: DB,
  t: TaskRow,
  now: number,
  end: { status: 'succeeded' | 'failed' | 'timed_out' | 'cancelled'; result?: unknown; error?: string | null },
  before: Stmt[] = [],
): Stmt[] {
  const ok = end.status === 'succeeded';
  return [
    ...before,
    db
      .update(tasks)
      .set({
        status: end.status,
        result: end.result ?? null,
        error: end.error ?? null,
        finishedAt: now,
        leaseUntil: null,
        nextRetryAt: null,
        updatedAt: now,
      })
      .where(running(t)),
    ...(end.status === 'cancelled' ? [] : endStatements(db, t, ok, now)),
    attemptRow(db, t, now, end.status, end.error ?? null),
  ];
}

/** A failed attempt with retries left: `retrying` until the queue redelivers after the delay. */
export function retryStatements(db: DB, t: TaskRow, now: number, error: string, delaySeconds: number): Stmt[] {
  const nextAt = now + delaySeconds * 1000;
  return [
    db
      .update(tasks)
      .set({
        status: 'retrying',
        error,
        nextRetryAt: nextAt,
        leaseUntil: nextAt + t.timeoutSeconds * 1000 + LEASE_MARGIN_MS,
        updatedAt: now,
      })
      .where(running(t)),
    attemptRow(db, t, now, 'failed', error, delaySeconds),
  ];
}

/** The last attempt failed: the task waits (still running) for the dead-letter consumer. */
export function deadLetterStatements(db: DB, t: TaskRow, now: number, error: string): Stmt[] {
  return [
    db
      .update(tasks)
      .set({ error, leaseUntil: now + DEAD_LETTER_GRACE_MS, updatedAt: now })
      .where(running(t)),
    attemptRow(db, t, now, 'failed', error),
  ];
}

/** The dead-letter consumer's write: any task not yet finished becomes dead, with the reason. */
export async function markDead(db: DB, taskId: number, reason: string, now: number): Promise<TaskRow | null> {
  const row = await db.select().from(tasks).where(eq(tasks.id, taskId)).get();
  if (!row || TERMINAL.includes(row.status)) return null;
  const [updated] = await db.batch([
    db
      .update(tasks)
      .set({ status: 'dead', error: reason, finishedAt: now, leaseUntil: null, nextRetryAt: null, updatedAt: now })
      .where(and(eq(tasks.id, taskId), notInArray(tasks.status, TERMINAL)))
      .returning(),
    ...endStatements(db, row, false, now),
  ]);
  return updated[0] ?? null;
}
