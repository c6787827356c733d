import { sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { FIRE_OUTCOMES, SCHEDULE_KINDS } from '../db/schema';
import { percentiles } from '../db/percentiles';

const zeroes = <K extends string>(keys: readonly K[]) => Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

/** Schedules by state and kind, fires by outcome, lateness p50/p99 and failures: from stored rows. */
export async function scheduleStats(db: DB, ownerId: number | null, windowHours: number, now = Date.now()) {
  const scope = ownerId === null ? sql`1 = 1` : sql`owner_id = ${ownerId}`;
  const since = now - windowHours * 3_600_000;
  const rows = await db.all<{ state: string; kind: string; n: number; auto: number; failing: number }>(
    sql`SELECT state, kind, count(*) AS n, count(*) FILTER (WHERE paused_reason LIKE 'paused after %') AS auto, count(*) FILTER (WHERE consecutive_failures > 0) AS failing
      FROM schedules WHERE ${scope} GROUP BY state, kind`,
  );
  const byState = { active: 0, paused: 0 };
  const byKind = zeroes(SCHEDULE_KINDS);
  let autoPaused = 0;
  let failing = 0;
  for (const r of rows) {
    byState[r.state as keyof typeof byState] += r.n;
    byKind[r.kind as keyof typeof byKind] += r.n;
    autoPaused += r.auto;
    failing += r.failing;
  }
  const outcomes = await db.all<{ outcome: string; n: number }>(
    sql`SELECT outcome, count(*) AS n FROM schedule_fires WHERE ${scope} AND fired_at >= ${since} GROUP BY outcome`,
  );
  const byOutcome = zeroes(FIRE_OUTCOMES);
  for (const o of outcomes) byOutcome[o.outcome as keyof typeof byOutcome] += o.n;
  const fireScope = ownerId === null ? sql`1 = 1` : sql`f.owner_id = ${ownerId}`;
  const failed = await db.get<{ n: number }>(sql`SELECT count(*) AS n FROM schedule_fires f JOIN tasks t ON t.schedule_fire_id = f.id
    WHERE ${fireScope} AND f.fired_at >= ${since} AND t.status IN ('failed', 'timed_out', 'dead')`);
  return {
    scope: ownerId === null ? ('all' as const) : ('mine' as const),
    window_hours: windowHours,
    schedules: { total: rows.reduce((a, r) => a + r.n, 0), by_state: byState, by_kind: byKind, auto_paused: autoPaused, failing },
    fires: { total: outcomes.reduce((a, o) => a + o.n, 0), by_outcome: byOutcome },
    lateness_ms: await percentiles(
      db,
      sql`fired_at - due_at`,
      sql`FROM schedule_fires WHERE ${scope} AND fired_at >= ${since} AND manual = 0 AND outcome != 'missed'`,
      [50, 99],
    ),
    failures: { fires_failed: failed?.n ?? 0, schedules_failing: failing, schedules_auto_paused: autoPaused },
  };
}
