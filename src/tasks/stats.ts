import { sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { percentiles } from '../db/percentiles';
import { TASK_PRIORITIES, TASK_STATUSES, TASK_TYPES } from '../db/schema';
import { dispatcher } from './rpc';

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** Counts by status, type and priority, throughput, wait and run time, dead letters: from the tasks table. */
export async function taskStats(env: Env, db: DB, ownerId: number | null, windowHours: number, now = Date.now()) {
  const scope = ownerId === null ? sql`1 = 1` : sql`owner_id = ${ownerId}`;
  const since = now - windowHours * 3_600_000;
  const groups = await db.all<{ status: string; task_type: string; priority: string; n: number }>(
    sql`SELECT status, task_type, priority, count(*) AS n FROM tasks WHERE ${scope} GROUP BY status, task_type, priority`,
  );
  const byStatus = zeroes(TASK_STATUSES);
  const byType = zeroes(TASK_TYPES);
  const byPriority = zeroes(TASK_PRIORITIES);
  for (const g of groups) {
    byStatus[g.status as keyof typeof byStatus] += g.n;
    byType[g.task_type as keyof typeof byType] += g.n;
    byPriority[g.priority as keyof typeof byPriority] += g.n;
  }
  const window = await db.get<{ submitted: number; finished: number; succeeded: number; failed: number; dead: number }>(sql`SELECT
      count(*) FILTER (WHERE created_at >= ${since}) AS submitted,
      count(*) FILTER (WHERE finished_at >= ${since}) AS finished,
      count(*) FILTER (WHERE finished_at >= ${since} AND status = 'succeeded') AS succeeded,
      count(*) FILTER (WHERE finished_at >= ${since} AND status IN ('failed', 'timed_out')) AS failed,
      count(*) FILTER (WHERE finished_at >= ${since} AND status = 'dead') AS dead
    FROM tasks WHERE ${scope}`);
  const finished = window?.finished ?? 0;
  return {
    scope: ownerId === null ? ('all' as const) : ('mine' as const),
    window_hours: windowHours,
    total: groups.reduce((a, g) => a + g.n, 0),
    by_status: byStatus,
    by_type: byType,
    by_priority: byPriority,
    throughput: {
      submitted: window?.submitted ?? 0,
      finished,
      succeeded: window?.succeeded ?? 0,
      failed: window?.failed ?? 0,
      dead: window?.dead ?? 0,
      per_minute: Math.round((finished / (windowHours * 60)) * 1000) / 1000,
    },
    wait_ms: await percentiles(
      db,
      sql`first_started_at - run_after`,
      sql`FROM tasks WHERE ${scope} AND first_started_at >= ${since}`,
      [50, 95],
    ),
    run_ms: await percentiles(
      db,
      sql`finished_at - first_started_at`,
      sql`FROM tasks WHERE ${scope} AND finished_at >= ${since} AND first_started_at IS NOT NULL`,
      [50, 95],
    ),
    dead_letter: { total: byStatus.dead, in_window: window?.dead ?? 0 },
    ...(ownerId === null ? { dispatcher: await dispatcher(env).status() } : {}),
  };
}
