import { and, asc, eq, isNotNull, lte } from 'drizzle-orm';
import { getDb } from '../db/client';
import { scheduleFires, schedules } from '../db/schema';
import { scheduleTimer } from './rpc';

/** Schedules due within this window get their alarm checked (and re-armed if it was lost). */
const LOOKAHEAD_MS = 5 * 60_000;
const CONCURRENCY = 10;

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * The Cron Trigger's half of firing (every minute): a schedule whose due time has passed is
 * ticked now — its alarm was lost, or is about to run, and the fire ledger makes that harmless —
 * and one due within five minutes gets its alarm checked and re-armed if missing. Alarms
 * survive deploys and eviction, but this makes the schedule correct even when one does not.
 */
export async function reconcileSchedules(env: Env, now = Date.now()) {
  const db = getDb(env.DB);
  const soon = await db
    .select({ id: schedules.id, nextRunAt: schedules.nextRunAt })
    .from(schedules)
    .where(and(eq(schedules.state, 'active'), isNotNull(schedules.nextRunAt), lte(schedules.nextRunAt, now + LOOKAHEAD_MS)))
    .orderBy(asc(schedules.nextRunAt))
    .limit(500)
    .all();
  const buffered = await db
    .selectDistinct({ id: scheduleFires.scheduleId })
    .from(scheduleFires)
    .where(eq(scheduleFires.outcome, 'buffered'))
    .limit(100)
    .all();
  let fired = 0;
  let rearmed = 0;
  await pool(soon, CONCURRENCY, async (s) => {
    const timer = scheduleTimer(env, s.id);
    if (s.nextRunAt! <= now) fired += (await timer.tick(s.id, 'cron')).fired;
    else if (await timer.ensureArmed(s.id, s.nextRunAt!)) rearmed++;
  });
  const seen = new Set(soon.map((s) => s.id));
  await pool(
    buffered.filter((b) => !seen.has(b.id)),
    CONCURRENCY,
    async (b) => {
      fired += (await scheduleTimer(env, b.id).tick(b.id, 'cron')).fired;
    },
  );
  return { checked: soon.length, fired, rearmed };
}
