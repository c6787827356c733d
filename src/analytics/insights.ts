import { sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { eventsSql, type Scope } from './catalogue';
import { bucketCeil, DAY, windowView, type Window } from './ranges';
import { MIN_DEVIATION, outliers, round, Z_THRESHOLD } from './stats';

/** Days of history an anomaly is judged against, at least: fewer make the median meaningless. */
export const MIN_BASELINE_DAYS = 14;
/**
 * Ended days of activity a scope needs before any anomaly is reported. Days before its first
 * event are not a history of zeros: without this, a new account's first few events stood against
 * a median of 0 and were all "anomalies".
 */
export const MIN_HISTORY_DAYS = 7;
/** A workflow's failures are a spike at this many or more, with the failure rate up by at least this much. */
export const SPIKE_MIN_FAILURES = 3;
export const SPIKE_MIN_RATE_RISE = 0.2;
const TOP = 5;

/**
 * Anomalies: the daily series (UTC days) of every event type and of all events together, over
 * the window's days or the last 14 days up to its end if the window is shorter. Each day's robust
 * z-score (median and MAD, see stats.ts) is computed against the series from the scope's first
 * event on (at least MIN_HISTORY_DAYS ended days of it, or nothing is reported); days past the
 * threshold that overlap the window are reported with the figures behind them.
 */
async function anomalies(db: DB, scope: Scope, w: Window, now: number) {
  const dayEnd = bucketCeil(w.end, DAY);
  const days = Math.max(MIN_BASELINE_DAYS, Math.ceil((dayEnd - w.start) / DAY));
  const dayStart = dayEnd - days * DAY;
  const rows = await db.all<{
    type: string;
    d: number;
    n: number;
  }>(sql`SELECT type, CAST((at - ${dayStart}) / ${DAY} AS INTEGER) AS d, count(*) AS n
    FROM (${eventsSql(scope, dayStart, dayEnd)}) GROUP BY type, d`);
  const perType = new Map<string, number[]>([['all', new Array<number>(days).fill(0)]]);
  for (const r of rows) {
    const s = perType.get(r.type) ?? new Array<number>(days).fill(0);
    s[r.d] = r.n;
    perType.set(r.type, s);
    perType.get('all')![r.d]! += r.n;
  }
  // Days that have ended; the day in progress can only show a spike, never a drop.
  const complete = Math.max(0, Math.min(days, Math.floor((now - dayStart) / DAY)));
  // The scope's history starts at its first event: the whole period if it had any before it.
  const firstActive = perType.get('all')!.findIndex((n) => n > 0);
  const earlier =
    firstActive > 0
      ? await db.get<{ one: number } | undefined>(sql`SELECT 1 AS one FROM (${eventsSql(scope, 0, dayStart)}) LIMIT 1`)
      : undefined;
  const from = earlier || firstActive < 0 ? 0 : firstActive;
  if (complete - from < MIN_HISTORY_DAYS) return [];
  const period = { from: new Date(dayStart).toISOString(), to: new Date(dayEnd).toISOString(), days };
  const found = [];
  for (const [type, values] of [...perType].sort(([a], [b]) => a.localeCompare(b))) {
    const { robust, outliers: out } = outliers(values.slice(from), complete - from);
    for (const o of out.map((x) => ({ ...x, index: x.index + from }))) {
      const day = dayStart + o.index * DAY;
      if (day + DAY <= w.start || day >= w.end) continue;
      found.push({
        kind: 'anomaly' as const,
        type,
        day: new Date(day).toISOString().slice(0, 10),
        direction: o.direction,
        value: o.value,
        median: robust.median,
        mad: robust.mad,
        mean_abs_dev: round(robust.mean_abs_dev),
        scale: robust.scale,
        z: o.z,
        threshold: Z_THRESHOLD,
        min_deviation: MIN_DEVIATION,
        period,
        values,
        message: `${type}: ${o.value} on ${new Date(day).toISOString().slice(0, 10)} against a median of ${robust.median} per day (robust z = ${o.z})`,
      });
    }
  }
  return found;
}

/** Workflows whose run failures rose against the previous period of the same length. */
async function failureSpikes(db: DB, scope: Scope, w: Window) {
  const mine = scope.userId === null ? sql`1 = 1` : sql`r.owner_id = ${scope.userId}`;
  const rows = await db.all<{
    workflow_id: number;
    name: string | null;
    failed: number;
    finished: number;
    prev_failed: number;
    prev_finished: number;
  }>(sql`SELECT r.workflow_id, w.name,
      count(*) FILTER (WHERE r.finished_at >= ${w.start} AND r.status = 'failed') AS failed,
      count(*) FILTER (WHERE r.finished_at >= ${w.start}) AS finished,
      count(*) FILTER (WHERE r.finished_at < ${w.start} AND r.status = 'failed') AS prev_failed,
      count(*) FILTER (WHERE r.finished_at < ${w.start}) AS prev_finished
    FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
    WHERE r.status IN ('succeeded', 'failed') AND r.finished_at >= ${w.previousStart} AND r.finished_at < ${w.end} AND ${mine}
    GROUP BY r.workflow_id`);
  return rows
    .map((r) => ({ ...r, rate: r.finished ? r.failed / r.finished : 0, prev_rate: r.prev_finished ? r.prev_failed / r.prev_finished : 0 }))
    .filter((r) => r.failed >= SPIKE_MIN_FAILURES && r.rate - r.prev_rate >= SPIKE_MIN_RATE_RISE)
    .sort((a, b) => b.rate - b.prev_rate - (a.rate - a.prev_rate) || b.failed - a.failed)
    .map((r) => ({
      kind: 'failure_spike' as const,
      workflow_id: r.workflow_id,
      name: r.name,
      failed: r.failed,
      finished: r.finished,
      failure_rate: round(r.rate),
      previous: { failed: r.prev_failed, finished: r.prev_finished, failure_rate: round(r.prev_rate) },
      thresholds: { min_failures: SPIKE_MIN_FAILURES, min_rate_rise: SPIKE_MIN_RATE_RISE },
      analytics_url: `/api/v3/workflows/${r.workflow_id}/analytics`,
      message: `${r.failed} of ${r.finished} runs failed (${round(r.rate * 100, 1)}%), against ${r.prev_failed} of ${r.prev_finished} in the previous period`,
    }));
}

/** Nodes with the longest mean duration among those that succeeded in the window. */
async function slowestNodes(db: DB, scope: Scope, w: Window) {
  const mine = scope.userId === null ? sql`1 = 1` : sql`r.owner_id = ${scope.userId}`;
  const rows = await db.all<{
    workflow_id: number;
    node_id: string;
    type: string;
    n: number;
    mean: number;
    max: number;
  }>(sql`SELECT r.workflow_id, n.node_id, n.type,
      count(*) AS n, round(avg(n.duration_ms)) AS mean, max(n.duration_ms) AS max
    FROM run_nodes n JOIN runs r ON r.id = n.run_id
    WHERE n.status = 'succeeded' AND n.duration_ms IS NOT NULL AND n.finished_at >= ${w.start} AND n.finished_at < ${w.end} AND ${mine}
    GROUP BY r.workflow_id, n.node_id ORDER BY mean DESC, r.workflow_id, n.node_id LIMIT ${TOP}`);
  return rows.map((r) => ({
    kind: 'slow_node' as const,
    workflow_id: r.workflow_id,
    node_id: r.node_id,
    node_type: r.type,
    samples: r.n,
    mean_ms: r.mean,
    max_ms: r.max,
    analytics_url: `/api/v3/workflows/${r.workflow_id}/analytics`,
    message: `node ${r.node_id} of workflow ${r.workflow_id}: ${r.mean} ms on average over ${r.n} runs (max ${r.max} ms)`,
  }));
}

/** Workflows that used the most tokens in runs that finished in the window. */
async function expensiveWorkflows(db: DB, scope: Scope, w: Window) {
  const mine = scope.userId === null ? sql`1 = 1` : sql`r.owner_id = ${scope.userId}`;
  const rows = await db.all<{
    workflow_id: number;
    name: string | null;
    runs: number;
    tin: number;
    tout: number;
    total_all: number;
  }>(sql`SELECT r.workflow_id, w.name, count(*) AS runs,
      sum(r.tokens_in) AS tin, sum(r.tokens_out) AS tout, sum(sum(r.tokens_in + r.tokens_out)) OVER () AS total_all
    FROM runs r LEFT JOIN workflows w ON w.id = r.workflow_id
    WHERE r.finished_at >= ${w.start} AND r.finished_at < ${w.end} AND ${mine}
    GROUP BY r.workflow_id HAVING sum(r.tokens_in + r.tokens_out) > 0 ORDER BY sum(r.tokens_in + r.tokens_out) DESC, r.workflow_id LIMIT ${TOP}`);
  return rows.map((r) => ({
    kind: 'expensive_workflow' as const,
    workflow_id: r.workflow_id,
    name: r.name,
    runs: r.runs,
    tokens_in: r.tin,
    tokens_out: r.tout,
    tokens: r.tin + r.tout,
    share: round((r.tin + r.tout) / r.total_all),
    analytics_url: `/api/v3/workflows/${r.workflow_id}/analytics`,
    message: `${r.tin + r.tout} tokens over ${r.runs} runs (${round(((r.tin + r.tout) / r.total_all) * 100, 1)}% of all tokens in the period)`,
  }));
}

/** `GET /analytics/insights`: every insight names the figures it was computed from. */
export async function insights(db: DB, scope: Scope, w: Window, now = Date.now()) {
  const [a, f, s, e] = await Promise.all([
    anomalies(db, scope, w, now),
    failureSpikes(db, scope, w),
    slowestNodes(db, scope, w),
    expensiveWorkflows(db, scope, w),
  ]);
  return {
    scope: scope.userId === null ? ('all' as const) : ('mine' as const),
    ...windowView(w),
    anomalies: a,
    failure_spikes: f,
    slowest_nodes: s,
    expensive_workflows: e,
  };
}
