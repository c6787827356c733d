import { and, desc, eq, lt } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { scheduleFires, schedules, tasks } from '../db/schema';
import { ApiError } from '../lib/errors';
import { log } from '../lib/log';
import { dueAt, timingOf, type FireRow, type ScheduleRow } from './fire';
import type { CronBody, DailyBody, IntervalBody, MonthlyBody, PatchBody, ScheduleTarget, WeeklyBody } from './schemas';
import { cronProblem, derivedCron, nextFireAfter, spacingProblem, type Timing, type Weekday } from './timing';
import { scheduleTimer } from './rpc';
import type { z } from '@hono/zod-openapi';
import { toIso, toIsoOrNull } from '../lib/time';
import { validatePayload } from '../tasks';
import { getWorkflow } from '../workflows';

export type Kind = ScheduleRow['kind'];
type CreateBody =
  | z.infer<typeof CronBody>
  | z.infer<typeof IntervalBody>
  | z.infer<typeof DailyBody>
  | z.infer<typeof WeeklyBody>
  | z.infer<typeof MonthlyBody>;
type Spec = { time?: string; weekdays?: Weekday[]; day_of_month?: number | 'last' };

/**
 * Points the schedule's timer at its next due time. A failure here is logged, not answered: the
 * schedule is stored, and the minute-by-minute reconcile arms (or fires) it anyway, while a 500
 * would invite the client to create it twice.
 */
async function arm(env: Env, id: number, at: number | null): Promise<void> {
  try {
    await scheduleTimer(env, id).arm(id, at);
  } catch (err) {
    log(env.LOG_LEVEL, 'warn', 'could not arm a schedule timer; the cron reconcile will', {
      schedule_id: id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

const invalid = (path: string[], message: string) =>
  new ApiError('validation_error', 'Request validation failed', { details: [{ path, code: 'custom', message }] });

export function scheduleView(s: ScheduleRow) {
  const spec = s.spec as Spec;
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    kind: s.kind,
    cron_expression: s.cronExpression,
    every_seconds: s.everySeconds,
    start_at: s.kind === 'interval' ? toIsoOrNull(s.anchorAt) : null,
    time: spec.time ?? null,
    weekdays: spec.weekdays ?? null,
    day_of_month: spec.day_of_month ?? null,
    timezone: s.timezone,
    target: s.target ?? null,
    overlap: s.overlap,
    jitter_seconds: s.jitterSeconds,
    catch_up_seconds: s.catchUpSeconds,
    max_retries: s.maxRetries,
    pause_after_failures: s.pauseAfterFailures,
    state: s.state,
    paused_reason: s.pausedReason,
    consecutive_failures: s.consecutiveFailures,
    next_fire_at: s.state === 'active' ? toIsoOrNull(s.nextFireAt) : null,
    last_fire_at: toIsoOrNull(s.lastFireAt),
    created_at: toIso(s.createdAt),
    updated_at: toIso(s.updatedAt),
  };
}

export function fireView(f: FireRow, task: { id: number; status: string; error: string | null } | null) {
  return {
    id: f.id,
    schedule_id: f.scheduleId,
    fire_at: toIso(f.fireAt),
    due_at: toIso(f.dueAt),
    fired_at: toIso(f.firedAt),
    lateness_ms: Math.max(0, f.firedAt - f.dueAt),
    manual: f.manual,
    source: f.source,
    outcome: f.outcome,
    detail: f.detail ?? null,
    task: task as { id: number; status: (typeof tasks.$inferSelect)['status']; error: string | null } | null,
  };
}

/** Timing and spec of a schedule from its kind's fields, checked: 400 when unusable. */
function timingFor(
  kind: Kind,
  fields: Spec & { cron_expression?: string; every_seconds?: number; anchorAt?: number },
  timezone: string,
  now: number,
) {
  let cronExpression: string | null = null;
  let spec: Spec = {};
  if (kind === 'cron') cronExpression = fields.cron_expression!;
  else if (kind !== 'interval') {
    spec = {
      time: fields.time!,
      ...(kind === 'weekly' ? { weekdays: fields.weekdays! } : {}),
      ...(kind === 'monthly' ? { day_of_month: fields.day_of_month! } : {}),
    };
    cronExpression = derivedCron(kind, spec.time!, { weekdays: spec.weekdays, dayOfMonth: spec.day_of_month });
  }
  const timing: Timing = {
    kind,
    cronExpression,
    everySeconds: kind === 'interval' ? fields.every_seconds! : null,
    anchorAt: kind === 'interval' ? fields.anchorAt! : null,
    timezone,
  };
  const field = kind === 'cron' ? 'cron_expression' : kind === 'interval' ? 'every_seconds' : 'time';
  if (cronExpression) {
    const problem = cronProblem(cronExpression, timezone);
    if (problem) throw invalid([field], `invalid cron expression: ${problem}`);
  }
  const spacing = spacingProblem(timing, now);
  if (spacing) throw invalid([field], spacing);
  return { timing, spec };
}

/** A target, checked like a task submission (its payload gets the same validation and defaults). */
async function checkTarget(env: Env, db: DB, ownerId: number, target: ScheduleTarget): Promise<ScheduleTarget> {
  if (target.type === 'workflow') {
    if (!(await getWorkflow(db, ownerId, target.workflow_id))) throw new ApiError('not_found', 'Workflow not found');
    return target;
  }
  const payload = (await validatePayload(env, db, ownerId, target.task_type, target.payload, ['target', 'payload'])) as Record<
    string,
    unknown
  >;
  return { ...target, payload };
}

export async function createSchedule(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  kind: Kind,
  body: CreateBody,
): Promise<ScheduleRow> {
  const now = Date.now();
  const b = body as CreateBody & Spec & { cron_expression?: string; every_seconds?: number; start_at?: string; weekday?: Weekday };
  const anchorAt = b.start_at
    ? Math.ceil(Date.parse(b.start_at) / 1000) * 1000
    : Math.ceil(now / 1000) * 1000 + (b.every_seconds ?? 0) * 1000;
  const weekdays = b.weekdays ?? (b.weekday ? [b.weekday] : undefined);
  const { timing, spec } = timingFor(kind, { ...b, weekdays, anchorAt }, b.timezone, now);
  const target = b.target ? await checkTarget(env, db, ownerId, b.target) : null;
  const next = nextFireAfter(timing, now);
  const [inserted] = await db.batch([
    db
      .insert(schedules)
      .values({
        ownerId,
        name: b.name,
        description: b.description ?? null,
        kind,
        cronExpression: timing.cronExpression,
        everySeconds: timing.everySeconds,
        anchorAt: timing.anchorAt,
        spec,
        timezone: b.timezone,
        target,
        overlap: b.overlap,
        jitterSeconds: b.jitter_seconds,
        catchUpSeconds: b.catch_up_seconds,
        maxRetries: b.max_retries,
        pauseAfterFailures: b.pause_after_failures ?? null,
        state: 'active',
        nextFireAt: next,
        nextRunAt: next,
        createdAt: now,
        updatedAt: now,
      })
      .returning(),
    auditInsert(db, meta, { action: 'schedule.create', targetType: 'schedule', details: { kind, name: b.name } }),
  ]);
  let row = inserted[0]!;
  // Jitter hashes the schedule id, known only now.
  if (next !== null && row.jitterSeconds > 0)
    row = (
      await db
        .update(schedules)
        .set({ nextRunAt: dueAt(row, next) })
        .where(eq(schedules.id, row.id))
        .returning()
    )[0]!;
  await arm(env, row.id, row.nextRunAt);
  return row;
}

export async function ownedSchedule(db: DB, ownerId: number, id: number): Promise<ScheduleRow> {
  const row = await db
    .select()
    .from(schedules)
    .where(and(eq(schedules.id, id), eq(schedules.ownerId, ownerId)))
    .get();
  // Another user's schedule is "not found", exactly like a missing one.
  if (!row) throw new ApiError('not_found', 'Schedule not found');
  return row;
}

const TIMING_FIELDS: Record<Kind, string[]> = {
  cron: ['cron_expression'],
  interval: ['every_seconds'],
  daily: ['time'],
  weekly: ['time', 'weekdays'],
  monthly: ['time', 'day_of_month'],
};

export async function updateSchedule(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  id: number,
  patch: PatchBody,
): Promise<ScheduleRow> {
  const s = await ownedSchedule(db, ownerId, id);
  const timingKeys = ['cron_expression', 'every_seconds', 'time', 'weekdays', 'day_of_month'].filter(
    (k) => patch[k as keyof PatchBody] !== undefined,
  );
  for (const k of timingKeys) if (!TIMING_FIELDS[s.kind].includes(k)) throw invalid([k], `${k} does not apply to a ${s.kind} schedule`);
  const now = Date.now();
  const spec = s.spec as Spec;
  const timezone = patch.timezone ?? s.timezone;
  const retime = timingKeys.length > 0 || timezone !== s.timezone;
  const { timing, spec: newSpec } = retime
    ? timingFor(
        s.kind,
        {
          cron_expression: patch.cron_expression ?? s.cronExpression ?? undefined,
          every_seconds: patch.every_seconds ?? s.everySeconds ?? undefined,
          anchorAt: s.anchorAt ?? undefined,
          time: patch.time ?? spec.time,
          weekdays: patch.weekdays ?? spec.weekdays,
          day_of_month: patch.day_of_month ?? spec.day_of_month,
        },
        timezone,
        now,
      )
    : { timing: timingOf(s), spec };
  const target = patch.target === undefined ? s.target : patch.target === null ? null : await checkTarget(env, db, ownerId, patch.target);
  const next = s.state === 'active' ? (retime ? nextFireAfter(timing, now) : s.nextFireAt) : null;
  const jitter = patch.jitter_seconds ?? s.jitterSeconds;
  const nextRunAt = next === null ? null : dueAt({ ...s, jitterSeconds: jitter }, next);
  const [updated] = await db.batch([
    db
      .update(schedules)
      .set({
        name: patch.name ?? s.name,
        description: patch.description !== undefined ? patch.description : s.description,
        cronExpression: timing.cronExpression,
        everySeconds: timing.everySeconds,
        spec: newSpec,
        timezone,
        target,
        overlap: patch.overlap ?? s.overlap,
        jitterSeconds: jitter,
        catchUpSeconds: patch.catch_up_seconds ?? s.catchUpSeconds,
        maxRetries: patch.max_retries ?? s.maxRetries,
        pauseAfterFailures: patch.pause_after_failures !== undefined ? patch.pause_after_failures : s.pauseAfterFailures,
        nextFireAt: next,
        nextRunAt,
        version: s.version + 1,
        updatedAt: now,
      })
      .where(and(eq(schedules.id, id), eq(schedules.ownerId, ownerId)))
      .returning(),
    auditIfChanged(db, meta, { action: 'schedule.update', targetType: 'schedule', targetId: id, details: { fields: Object.keys(patch) } }),
  ]);
  const row = updated[0]!;
  await arm(env, id, row.state === 'active' ? row.nextRunAt : null);
  return row;
}

/** Pause keeps the schedule but fires nothing; resume starts from the next fire after now (no backfill of the pause). */
export async function setScheduleState(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  id: number,
  state: 'active' | 'paused',
): Promise<ScheduleRow> {
  const s = await ownedSchedule(db, ownerId, id);
  if (s.state === state) return s;
  const now = Date.now();
  const next = state === 'active' ? nextFireAfter(timingOf(s), now) : null;
  const [updated] = await db.batch([
    db
      .update(schedules)
      .set({
        state,
        pausedReason: state === 'paused' ? 'paused by request' : null,
        consecutiveFailures: state === 'active' ? 0 : s.consecutiveFailures,
        nextFireAt: next,
        nextRunAt: next === null ? null : dueAt(s, next),
        version: s.version + 1,
        updatedAt: now,
      })
      .where(and(eq(schedules.id, id), eq(schedules.version, s.version)))
      .returning(),
    auditIfChanged(db, meta, { action: state === 'active' ? 'schedule.resume' : 'schedule.pause', targetType: 'schedule', targetId: id }),
  ]);
  const row = updated[0];
  if (!row) throw new ApiError('conflict', 'The schedule changed meanwhile; try again');
  await arm(env, id, row.state === 'active' ? row.nextRunAt : null);
  return row;
}

export async function deleteSchedule(env: Env, db: DB, meta: RequestMeta, ownerId: number, id: number): Promise<void> {
  await ownedSchedule(db, ownerId, id);
  await db.batch([
    db.delete(scheduleFires).where(eq(scheduleFires.scheduleId, id)),
    db.delete(schedules).where(and(eq(schedules.id, id), eq(schedules.ownerId, ownerId))),
    auditIfChanged(db, meta, { action: 'schedule.delete', targetType: 'schedule', targetId: id }),
  ]);
  // If this fails, the timer's next alarm finds the schedule gone and forgets it then.
  await scheduleTimer(env, id)
    .disarm()
    .catch((err: unknown) => log(env.LOG_LEVEL, 'warn', 'could not disarm a schedule timer', { schedule_id: id, error: String(err) }));
}

export async function listSchedules(db: DB, ownerId: number, limit: number, before: number | undefined) {
  return db
    .select()
    .from(schedules)
    .where(and(eq(schedules.ownerId, ownerId), before ? lt(schedules.id, before) : undefined))
    .orderBy(desc(schedules.id))
    .limit(limit + 1)
    .all();
}

/** A schedule's fires, newest first, each with the task it started (and that task's status now). */
export async function listFires(db: DB, scheduleId: number, limit: number, before: number | undefined) {
  const rows = await db
    .select({ fire: scheduleFires, taskId: tasks.id, taskStatus: tasks.status, taskError: tasks.error })
    .from(scheduleFires)
    .leftJoin(tasks, eq(tasks.scheduleFireId, scheduleFires.id))
    .where(and(eq(scheduleFires.scheduleId, scheduleId), before ? lt(scheduleFires.id, before) : undefined))
    .orderBy(desc(scheduleFires.id))
    .limit(limit + 1)
    .all();
  return rows.map((r) => ({
    id: r.fire.id,
    view: fireView(r.fire, r.taskId === null ? null : { id: r.taskId, status: r.taskStatus!, error: r.taskError }),
  }));
}
