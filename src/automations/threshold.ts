import { and, eq, gte, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { automationExecutions } from '../db/schema';
import type { Trigger } from './schemas';
import type { AutomationRow } from './queries';

type Threshold = Extract<Trigger, { type: 'threshold' }>;

/** The metric over the window, counted from the owner's stored rows. */
export async function measure(db: DB, ownerId: number, t: Threshold, now: number): Promise<number> {
  const since = now - t.window_minutes * 60_000;
  const q =
    t.metric === 'failed_tasks'
      ? sql`SELECT count(*) AS n FROM tasks WHERE owner_id = ${ownerId} AND status IN ('failed', 'timed_out', 'dead') AND finished_at >= ${since}`
      : sql`SELECT count(*) AS n FROM runs WHERE owner_id = ${ownerId} AND status = ${t.metric === 'failed_runs' ? 'failed' : 'succeeded'} AND finished_at >= ${since}`;
  return (await db.get<{ n: number }>(q))?.n ?? 0;
}

export const crosses = (t: Threshold, v: number) =>
  t.op === 'gt' ? v > t.value : t.op === 'gte' ? v >= t.value : t.op === 'lt' ? v < t.value : v <= t.value;

/**
 * Whether this automation already fired within the window: a threshold that stays crossed fires
 * once per window, not on every check.
 */
export async function firedWithin(db: DB, a: AutomationRow, t: Threshold, now: number): Promise<boolean> {
  const row = await db
    .select({ id: automationExecutions.id })
    .from(automationExecutions)
    .where(and(eq(automationExecutions.automationId, a.id), gte(automationExecutions.createdAt, now - t.window_minutes * 60_000)))
    .limit(1)
    .get();
  return row !== undefined;
}
