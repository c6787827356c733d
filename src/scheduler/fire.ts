import { and, asc, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import { getDb, rawAll, type DB, runBatch, type Stmt } from '../db/client';
import { scheduleFires, schedules, tasks } from '../db/schema';
import { ScheduleTarget } from './schemas';
import { jitterMs, nextFireAfter, type Timing } from './timing';
import { TERMINAL, cancelTasks, enqueueTasks, type NewTask } from '../tasks';

export type ScheduleRow = typeof schedules.$inferSelect;
export type FireRow = typeof scheduleFires.$inferSelect;
/** `gone`: the schedule no longer exists, so its timer can forget it. */
export type TickResult = { wakeAt: number | null; fired: number; missed: number; gone?: boolean };

/** Due fires handled per tick; more wait for the next tick (armed for now). */
const MAX_FIRES_PER_TICK = 25;
/** Fire times examined per tick when catching up after a long outage. */
const MAX_SCAN = 10_000;

export const timingOf = (s: ScheduleRow): Timing => ({
  kind: s.kind,
  cronExpression: s.cronExpression,
  everySeconds: s.everySeconds,
  anchorAt: s.anchorAt,
  timezone: s.timezone,
});
export const dueAt = (s: ScheduleRow, fireAt: number) => fireAt + jitterMs(s.id, fireAt, s.jitterSeconds);

/** The task a fire starts, from the schedule's stored target (validated again: it is stored JSON). */
export function taskFor(s: ScheduleRow): NewTask | null {
  const parsed = ScheduleTarget.safeParse(s.target);
  if (!parsed.success) return null;
  const t = parsed.data;
  const common = {
    name: s.name,
    priority: t.priority,
    delaySeconds: 0,
    timeoutSeconds: t.timeout_seconds ?? 300,
    maxRetries: s.maxRetries,
  };
  return t.type === 'workflow'
    ? { ...common, taskType: 'workflow_run', payload: { workflow_id: t.workflow_id, input: t.input } }
    : { ...common, taskType: t.task_type, payload: t.payload };
}

/** Inserts the fire's task only if the statement before it in the batch changed a row. */
function insertTaskIfClaimed(db: DB, s: ScheduleRow, task: NewTask, fireId: ReturnType<typeof sql>, now: number) {
  return rawAll<{ id: number; owner_id: number; priority: NewTask['priority']; run_after: number }>(
    db,
    sql`INSERT INTO tasks (owner_id, name, task_type, priority, status, payload, max_retries, timeout_seconds, delay_seconds, run_after, schedule_id, schedule_fire_id, created_at, updated_at)
      SELECT ${s.ownerId}, ${task.name}, ${task.taskType}, ${task.priority}, 'queued', ${JSON.stringify(task.payload)}, ${task.maxRetries}, ${task.timeoutSeconds}, 0, ${now}, ${s.id}, ${fireId}, ${now}, ${now}
      WHERE changes() > 0
      RETURNING id, owner_id, priority, run_after`,
  );
}

const activeTasks = (db: DB, scheduleId: number) =>
  db
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.scheduleId, scheduleId), notInArray(tasks.status, TERMINAL)))
    .all();

async function enqueueInserted(env: Env, rows: { id: number; owner_id: number; priority: NewTask['priority']; run_after: number }[]) {
  await enqueueTasks(
    env,
    rows.map((r) => ({ id: r.id, ownerId: r.owner_id, priority: r.priority, runAfter: r.run_after })),
  );
}

/**
 * One fire of a schedule at `fireAt`, exactly once: the fire row and its task are inserted in
 * one D1 batch, the task only if the fire row was new (`changes()`), and the fire row's unique
 * (schedule, manual, fire_at) key means whichever of the alarm and the cron reconcile comes
 * second inserts nothing. Returns the fire row, or null if this fire had already happened.
 */
export async function fireOnce(
  env: Env,
  db: DB,
  s: ScheduleRow,
  fireAt: number,
  opts: { manual: boolean; source: FireRow['source']; now: number },
  extra: Stmt[] = [],
): Promise<FireRow | null> {
  const task = s.target ? taskFor(s) : null;
  let outcome: FireRow['outcome'] = task ? 'launched' : 'recorded';
  let detail: Record<string, unknown> | null = s.target && !task ? { error: 'the stored target is invalid' } : null;
  const active = task ? await activeTasks(db, s.id) : [];
  if (task && active.length && s.overlap === 'skip') {
    outcome = 'skipped';
    detail = { reason: 'the previous fire is still running', task_ids: active.map((a) => a.id) };
  } else if (task && active.length && s.overlap === 'buffer_one') {
    const buffered = await db
      .select({ id: scheduleFires.id })
      .from(scheduleFires)
      .where(and(eq(scheduleFires.scheduleId, s.id), eq(scheduleFires.outcome, 'buffered')))
      .get();
    outcome = buffered ? 'skipped' : 'buffered';
    detail = buffered ? { reason: 'a fire is already buffered', buffered_fire_id: buffered.id } : { waiting_for: active.map((a) => a.id) };
  }
  const fireId = sql`(SELECT id FROM schedule_fires WHERE schedule_id = ${s.id} AND manual = ${opts.manual ? 1 : 0} AND fire_at = ${fireAt})`;
  const results = await runBatch(db, [
    db
      .insert(scheduleFires)
      .values({
        scheduleId: s.id,
        ownerId: s.ownerId,
        manual: opts.manual,
        fireAt,
        dueAt: opts.manual ? fireAt : dueAt(s, fireAt),
        firedAt: opts.now,
        source: opts.source,
        outcome,
        detail,
      })
      .onConflictDoNothing()
      .returning(),
    ...(task && outcome === 'launched' ? [insertTaskIfClaimed(db, s, task, fireId, opts.now)] : []),
    ...extra,
  ]);
  const fire = (results[0] as FireRow[])[0];
  if (!fire) return null;
  if (task && outcome === 'launched') {
    const inserted = results[1] as { id: number; owner_id: number; priority: NewTask['priority']; run_after: number }[];
    if (active.length && s.overlap === 'cancel_previous') {
      const meta: RequestMeta = { requestId: `schedule:${s.id}`, ip: null, userAgent: null, actorUserId: s.ownerId, actorApiKeyId: null };
      // No end-of-task hooks from here: this runs inside the schedule's own timer object.
      await cancelTasks(
        env,
        db,
        meta,
        s.ownerId,
        active.map((a) => a.id),
        `cancelled by a newer fire of schedule ${s.id} (overlap: cancel_previous)`,
        false,
      );
    }
    await enqueueInserted(env, inserted);
  }
  return fire;
}

/** buffer_one: once nothing of the schedule is running, the buffered fire's task starts. */
async function launchBuffered(env: Env, db: DB, s: ScheduleRow, now: number): Promise<void> {
  const task = taskFor(s);
  if (!task) return;
  const buffered = await db
    .select()
    .from(scheduleFires)
    .where(and(eq(scheduleFires.scheduleId, s.id), eq(scheduleFires.outcome, 'buffered')))
    .orderBy(asc(scheduleFires.id))
    .get();
  if (!buffered || (await activeTasks(db, s.id)).length) return;
  const [, inserted] = await runBatch(db, [
    db
      .update(scheduleFires)
      .set({ outcome: 'launched', source: 'buffer', detail: { ...(buffered.detail ?? {}), launched_at: new Date(now).toISOString() } })
      .where(and(eq(scheduleFires.id, buffered.id), eq(scheduleFires.outcome, 'buffered'))),
    insertTaskIfClaimed(db, s, task, sql`${buffered.id}`, now),
  ]);
  await enqueueInserted(env, inserted as { id: number; owner_id: number; priority: NewTask['priority']; run_after: number }[]);
}

/**
 * Fires whatever of a schedule is due at `now`: backfills missed fires within the catch-up
 * window, records older ones as one `missed` row, launches a buffered fire whose predecessor
 * ended, and moves next_fire_at on — only if the schedule was not changed meanwhile (version).
 */
export async function tickSchedule(env: Env, scheduleId: number, source: 'alarm' | 'cron', now = Date.now()): Promise<TickResult> {
  const db = getDb(env.DB);
  const s = await db.select().from(schedules).where(eq(schedules.id, scheduleId)).get();
  if (!s) return { wakeAt: null, fired: 0, missed: 0, gone: true };
  if (s.state !== 'active') return { wakeAt: null, fired: 0, missed: 0 };
  await launchBuffered(env, db, s, now);
  const timing = timingOf(s);
  const due: number[] = [];
  let missed = 0;
  let firstMissed: number | null = null;
  let lastMissed: number | null = null;
  let t = s.nextFireAt;
  for (let scanned = 0; t !== null && dueAt(s, t) <= now && due.length < MAX_FIRES_PER_TICK && scanned < MAX_SCAN; scanned++) {
    if (now - t > s.catchUpSeconds * 1000) {
      missed++;
      firstMissed ??= t;
      lastMissed = t;
    } else due.push(t);
    t = nextFireAfter(timing, t);
  }
  if (firstMissed !== null) {
    await db
      .insert(scheduleFires)
      .values({
        scheduleId: s.id,
        ownerId: s.ownerId,
        fireAt: firstMissed,
        dueAt: dueAt(s, firstMissed),
        firedAt: now,
        source,
        outcome: 'missed',
        detail: {
          count: missed,
          last_missed_at: new Date(lastMissed!).toISOString(),
          reason: `older than the catch-up window (${s.catchUpSeconds}s) when the schedule could fire again`,
        },
      })
      .onConflictDoNothing();
  }
  let fired = 0;
  for (const f of due) if (await fireOnce(env, db, s, f, { manual: false, source, now })) fired++;
  if (t !== s.nextFireAt) {
    const last = Math.max(s.lastFireAt ?? 0, due.at(-1) ?? 0, lastMissed ?? 0) || null;
    await db
      .update(schedules)
      .set({ nextFireAt: t, nextRunAt: t === null ? null : dueAt(s, t), lastFireAt: last, updatedAt: now })
      .where(
        and(
          eq(schedules.id, s.id),
          eq(schedules.version, s.version),
          s.nextFireAt === null ? isNull(schedules.nextFireAt) : eq(schedules.nextFireAt, s.nextFireAt),
        ),
      );
  }
  const behind = t !== null && dueAt(s, t) <= now;
  return { wakeAt: t === null ? null : behind ? now : dueAt(s, t), fired, missed };
}
