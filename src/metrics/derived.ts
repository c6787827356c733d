import { DEFAULT_BUCKETS } from './buckets';
import type { Family, Labels, MetricType, SeriesTotal } from './model';

/**
 * Workflow, AI, task and schedule metrics, derived when read from the rows D1 already holds
 * (runs, node_attempts, tasks, task_attempts, schedules, schedule_fires) instead of counted by
 * hooks in the engine: nothing to keep in step, nothing lost if a hook were skipped, and history
 * from before metrics existed is included. The price is a scan of those tables per read, in one
 * D1 batch (one round trip); its cost in rows read is reported as a metric of its own. "Counters"
 * here count rows that exist, so deleting rows (an account removed, say) lowers them, which
 * Prometheus treats as a counter reset.
 */
export type Derived = { families: Family[]; totals: SeriesTotal[]; d1: { sizeBytes: number | null; rowsRead: number; durationMs: number } };

const LATENESS_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300];
const TOP_MODELS = 50;

const family = (name: string, type: MetricType, help: string, unit: string | null = null, buckets: number[] | null = null): Family => ({
  name,
  given: name,
  type,
  help,
  unit,
  category: 'derived',
  buckets,
});

export const DERIVED_FAMILIES = {
  runs: family('dwc_workflow_runs', 'gauge', 'Workflow runs stored in D1, by status.'),
  nodeAttempts: family('dwc_workflow_node_attempts_total', 'counter', 'Node attempts recorded, by outcome.'),
  nodeRetries: family('dwc_workflow_node_retries_total', 'counter', 'Node attempts after the first (retries).'),
  nodeLatency: family('dwc_workflow_node_attempt_duration_seconds', 'histogram', 'Duration of node attempts.', 'seconds', DEFAULT_BUCKETS),
  tokens: family(
    'dwc_ai_tokens_total',
    'counter',
    `AI tokens used by node attempts, by provider, model and direction (the ${TOP_MODELS} busiest models).`,
  ),
  tasks: family('dwc_tasks', 'gauge', 'Background tasks stored in D1, by type and status.'),
  taskAttempts: family('dwc_task_attempts_total', 'counter', 'Finished task attempts, by outcome.'),
  schedules: family('dwc_schedules', 'gauge', 'Schedules, by state.'),
  fires: family('dwc_schedule_fires_total', 'counter', 'Schedule fires recorded in the fire ledger, by outcome.'),
  lateness: family(
    'dwc_schedule_fire_lateness_seconds',
    'histogram',
    'How late fires started after they were due (fired_at − due_at).',
    'seconds',
    LATENESS_BUCKETS,
  ),
  users: family('dwc_users', 'gauge', 'Registered users.'),
  d1Size: family(
    'dwc_d1_database_size_bytes',
    'gauge',
    'Size of the D1 database, as D1 reports it after a query (meta.size_after).',
    'bytes',
  ),
  d1RowsRead: family('dwc_metrics_derive_d1_rows_read', 'gauge', 'Rows D1 read to derive these metrics, in the latest derivation.'),
};

/** `sum(col <= b)` for each bound: cumulative counts, turned into per-bucket counts below. */
const cumulativeColumns = (col: string, boundsInColUnits: number[]) =>
  boundsInColUnits.map((b, i) => `sum(CASE WHEN ${col} <= ${b} THEN 1 ELSE 0 END) AS b${i}`).join(', ');

type HistRow = Record<string, number | null> & { n: number; s: number | null };

function histogramTotal(f: Family, row: HistRow | undefined, scale: number, now: number): SeriesTotal {
  const bounds = f.buckets!;
  const n = row?.n ?? 0;
  const counts: number[] = [];
  let prev = 0;
  bounds.forEach((_, i) => {
    const cum = Number(row?.[`b${i}`] ?? 0);
    counts.push(cum - prev);
    prev = cum;
  });
  counts.push(n - prev);
  return { family: f.name, labels: {}, count: n, sum: (row?.s ?? 0) / scale, value: 0, counts, updatedAt: now };
}

const gauge = (f: Family, labels: Labels, v: number, now: number): SeriesTotal => ({
  family: f.name,
  labels,
  count: 1,
  sum: v,
  value: v,
  counts: null,
  updatedAt: now,
});
const counter = (f: Family, labels: Labels, v: number, now: number): SeriesTotal => ({
  family: f.name,
  labels,
  count: v,
  sum: v,
  value: v,
  counts: null,
  updatedAt: now,
});

export async function deriveMetrics(db: D1Database, now = Date.now()): Promise<Derived> {
  const F = DERIVED_FAMILIES;
  const latencyMs = F.nodeLatency.buckets!.map((b) => b * 1000);
  const latenessMs = F.lateness.buckets!.map((b) => b * 1000);
  const results = await db.batch([
    db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status'),
    db.prepare('SELECT status, count(*) AS n, sum(CASE WHEN attempt > 1 THEN 1 ELSE 0 END) AS retries FROM node_attempts GROUP BY status'),
    db.prepare(`SELECT count(*) AS n, sum(latency_ms) AS s, ${cumulativeColumns('latency_ms', latencyMs)} FROM node_attempts`),
    db.prepare(`SELECT provider, coalesce(model, '') AS model, sum(tokens_in) AS tin, sum(tokens_out) AS tout FROM node_attempts
      WHERE provider IS NOT NULL GROUP BY provider, model ORDER BY sum(tokens_in + tokens_out) DESC LIMIT ${TOP_MODELS}`),
    db.prepare('SELECT task_type, status, count(*) AS n FROM tasks GROUP BY task_type, status'),
    db.prepare('SELECT status, count(*) AS n FROM task_attempts GROUP BY status'),
    db.prepare('SELECT state, count(*) AS n FROM schedules GROUP BY state'),
    db.prepare('SELECT outcome, count(*) AS n FROM schedule_fires GROUP BY outcome'),
    db.prepare(
      `SELECT count(*) AS n, sum(fired_at - due_at) AS s, ${cumulativeColumns('fired_at - due_at', latenessMs)} FROM schedule_fires`,
    ),
    db.prepare('SELECT count(*) AS n FROM users'),
  ]);
  const rows = <T>(i: number) => (results[i]!.results ?? []) as T[];
  const totals: SeriesTotal[] = [];
  for (const r of rows<{ status: string; n: number }>(0)) totals.push(gauge(F.runs, { status: r.status }, r.n, now));
  let retries = 0;
  for (const r of rows<{ status: string; n: number; retries: number }>(1)) {
    totals.push(counter(F.nodeAttempts, { status: r.status }, r.n, now));
    retries += r.retries;
  }
  totals.push(counter(F.nodeRetries, {}, retries, now));
  totals.push(histogramTotal(F.nodeLatency, rows<HistRow>(2)[0], 1000, now));
  for (const r of rows<{ provider: string; model: string; tin: number; tout: number }>(3)) {
    totals.push(counter(F.tokens, { provider: r.provider, model: r.model, direction: 'in' }, r.tin, now));
    totals.push(counter(F.tokens, { provider: r.provider, model: r.model, direction: 'out' }, r.tout, now));
  }
  for (const r of rows<{ task_type: string; status: string; n: number }>(4))
    totals.push(gauge(F.tasks, { type: r.task_type, status: r.status }, r.n, now));
  for (const r of rows<{ status: string; n: number }>(5)) totals.push(counter(F.taskAttempts, { status: r.status }, r.n, now));
  for (const r of rows<{ state: string; n: number }>(6)) totals.push(gauge(F.schedules, { state: r.state }, r.n, now));
  for (const r of rows<{ outcome: string; n: number }>(7)) totals.push(counter(F.fires, { outcome: r.outcome }, r.n, now));
  totals.push(histogramTotal(F.lateness, rows<HistRow>(8)[0], 1000, now));
  totals.push(gauge(F.users, {}, rows<{ n: number }>(9)[0]?.n ?? 0, now));

  const rowsRead = results.reduce((a, r) => a + (r.meta?.rows_read ?? 0), 0);
  const durationMs = results.reduce((a, r) => a + (r.meta?.duration ?? 0), 0);
  // size_after is reported by D1 with each result; undefined where a runtime does not report it.
  const sizeBytes = results.map((r) => r.meta?.size_after).find((v): v is number => typeof v === 'number') ?? null;
  if (sizeBytes !== null) totals.push(gauge(F.d1Size, {}, sizeBytes, now));
  totals.push(gauge(F.d1RowsRead, {}, rowsRead, now));
  return { families: Object.values(F), totals, d1: { sizeBytes, rowsRead, durationMs } };
}
