import { and, eq, inArray, isNull, lt } from 'drizzle-orm';
import { getDb } from '../db/client';
import { tasks } from '../db/schema';
import type { TaskMessage } from './dispatch';
import { TERMINAL } from './lifecycle';
import { dispatcher } from './rpc';

/** A dispatched task whose first message has not been claimed after this long is re-sent. */
const UNCLAIMED_MS = 5 * 60_000;
/** After re-sending, the next reconcile leaves the task alone for this long. */
const RESEND_BACKOFF_MS = 5 * 60_000;

/**
 * Repairs what a crash between two steps can leave behind — D1 and the dispatcher disagree, or
 * a queue message is gone. Called every minute by the Cron Trigger. Each repair is idempotent:
 * enqueueing a known task is a no-op, and a re-sent message is just a duplicate the claim refuses.
 */
export async function reconcileTasks(env: Env, now = Date.now()) {
  const db = getDb(env.DB);
  const d = dispatcher(env);

  // 1. Queued in D1 but perhaps never handed to the dispatcher (the request died in between).
  const queued = await db
    .select({ id: tasks.id, ownerId: tasks.ownerId, priority: tasks.priority, runAfter: tasks.runAfter })
    .from(tasks)
    .where(and(eq(tasks.status, 'queued'), isNull(tasks.dispatchSeq), lt(tasks.createdAt, now - 60_000)))
    .limit(500)
    .all();
  if (queued.length)
    await d.enqueue(queued.map((t) => ({ taskId: t.id, ownerId: t.ownerId, priority: t.priority, eligibleAt: t.runAfter })));

  // 2. Slots held by tasks that ended or handed over to a run (a release was lost), or whose
  //    first message never arrived.
  const inFlight = await d.inFlight();
  const release: number[] = [];
  const resend: { taskId: number; ownerId: number; priority: (typeof tasks.$inferSelect)['priority']; eligibleAt: number }[] = [];
  for (let i = 0; i < inFlight.length; i += 100) {
    const chunk = inFlight.slice(i, i + 100);
    const rows = await db
      .select()
      .from(tasks)
      .where(
        inArray(
          tasks.id,
          chunk.map((c) => c.taskId),
        ),
      )
      .all();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const c of chunk) {
      const row = byId.get(c.taskId);
      if (!row || TERMINAL.includes(row.status) || row.runId !== null) release.push(c.taskId);
      else if (row.status === 'queued' && c.dispatchedAt < now - UNCLAIMED_MS)
        resend.push({ taskId: row.id, ownerId: row.ownerId, priority: row.priority, eligibleAt: row.runAfter });
    }
  }
  if (release.length) await d.release(release);
  if (resend.length) await d.redispatch(resend);

  // 3. Attempts or retries whose lease passed: their message was lost, or their consumer died
  //    mid-attempt. A lost attempt counts as failed; the task goes back to `retrying` so the
  //    re-sent message can claim it (a watched run keeps running: only its watch is re-sent).
  const lost = await db
    .select()
    .from(tasks)
    .where(and(inArray(tasks.status, ['running', 'retrying']), lt(tasks.leaseUntil, now)))
    .limit(200)
    .all();
  const redispatch = [];
  for (const t of lost) {
    const watched = t.runId !== null;
    const [moved] = await db
      .update(tasks)
      .set({
        status: watched ? t.status : 'retrying',
        error: watched ? t.error : (t.error ?? 'an attempt was lost (its lease expired) and is being retried'),
        leaseUntil: now + RESEND_BACKOFF_MS,
        updatedAt: now,
      })
      .where(and(eq(tasks.id, t.id), eq(tasks.status, t.status), eq(tasks.attempts, t.attempts), lt(tasks.leaseUntil, now)))
      .returning({ id: tasks.id });
    if (!moved) continue;
    if (watched) await env.TASKS_QUEUE.send({ kind: 'watch', task_id: t.id, seq: t.watchSeq } satisfies TaskMessage);
    else redispatch.push({ taskId: t.id, ownerId: t.ownerId, priority: t.priority, eligibleAt: t.runAfter });
  }
  if (redispatch.length) await d.redispatch(redispatch);
  return { enqueued: queued.length, released: release.length, resent: resend.length + lost.length };
}
