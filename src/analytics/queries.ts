import { sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { BUILT_IN_TYPES, eventsSql, type Scope } from './catalogue';
import { fillSeries, windowView, type Window } from './ranges';
import { trend } from './stats';

/*
 * Every figure here is counted by D1 from stored rows, at request time; nothing is cached or
 * kept in memory. Bucket indexes are computed in SQL as CAST((at − start) / bucket AS INTEGER):
 * `at` ≥ start in every query, so truncation is the floor.
 */

const scopeView = (s: Scope) => (s.userId === null ? ('all' as const) : ('mine' as const));

/** Events per type in the window and in the previous period of the same length. */
export async function countsByType(db: DB, scope: Scope, w: Window) {
  const rows = await db.all<{ type: string; cur: number; prev: number }>(sql`SELECT type,
      count(*) FILTER (WHERE at >= ${w.start}) AS cur, count(*) FILTER (WHERE at < ${w.start}) AS prev
    FROM (${eventsSql(scope, w.previousStart, w.end)}) GROUP BY type`);
  const counts = new Map<string, { cur: number; prev: number }>(BUILT_IN_TYPES.map((t) => [t, { cur: 0, prev: 0 }]));
  for (const r of rows) counts.set(r.type, { cur: r.cur, prev: r.prev });
  return counts;
}

/** Per-bucket counts per type over the window, as Map<type, Map<bucket index, count>>. */
async function bucketCounts(db: DB, scope: Scope, w: Window, type?: string) {
  const rows = await db.all<{
    type: string;
    b: number;
    n: number;
  }>(sql`SELECT type, CAST((at - ${w.start}) / ${w.bucketMs} AS INTEGER) AS b, count(*) AS n
    FROM (${eventsSql(scope, w.start, w.end)}) ${type === undefined ? sql`` : sql`WHERE type = ${type}`} GROUP BY type, b`);
  const out = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const m = out.get(r.type) ?? new Map<number, number>();
    m.set(r.b, r.n);
    out.set(r.type, m);
  }
  return out;
}

function sumSeries(perType: Map<string, Map<number, number>>) {
  const total = new Map<number, number>();
  for (const m of perType.values()) for (const [b, n] of m) total.set(b, (total.get(b) ?? 0) + n);
  return total;
}

/** `GET /analytics/summary`: totals and per-type counts with trends, and the total series. */
export async function summary(db: DB, scope: Scope, w: Window) {
  const [counts, buckets] = await Promise.all([countsByType(db, scope, w), bucketCounts(db, scope, w)]);
  let cur = 0;
  let prev = 0;
  for (const c of counts.values()) {
    cur += c.cur;
    prev += c.prev;
  }
  return {
    scope: scopeView(scope),
    ...windowView(w),
    totals: trend(cur, prev),
    by_type: Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)).map(([t, c]) => [t, trend(c.cur, c.prev)])),
    series: fillSeries(w, sumSeries(buckets)),
  };
}

/** `GET /analytics/series`: the total series and one per type (or just `type`'s). */
export async function series(db: DB, scope: Scope, w: Window, type?: string) {
  const buckets = await bucketCounts(db, scope, w, type);
  const types = type !== undefined ? [type] : [...new Set([...BUILT_IN_TYPES, ...buckets.keys()])].sort();
  return {
    scope: scopeView(scope),
    ...windowView(w),
    total: fillSeries(w, sumSeries(buckets)),
    by_type: Object.fromEntries(types.map((t) => [t, fillSeries(w, buckets.get(t) ?? new Map())])),
  };
}

/** Per-user activity in the window, most active first. A non-admin's scope holds only themselves. */
export async function userActivity(db: DB, scope: Scope, w: Window, limit: number) {
  const rows = await db.all<{
    user_id: number;
    username: string | null;
    type: string;
    n: number;
  }>(sql`SELECT e.user_id, u.username, e.type, count(*) AS n
    FROM (${eventsSql(scope, w.start, w.end)}) e LEFT JOIN users u ON u.id = e.user_id
    WHERE e.user_id IS NOT NULL GROUP BY e.user_id, e.type`);
  const users = new Map<number, { user_id: number; username: string | null; total: number; by_type: Record<string, number> }>();
  for (const r of rows) {
    const u = users.get(r.user_id) ?? { user_id: r.user_id, username: r.username, total: 0, by_type: {} };
    u.total += r.n;
    u.by_type[r.type] = r.n;
    users.set(r.user_id, u);
  }
  const items = [...users.values()].sort((a, b) => b.total - a.total || a.user_id - b.user_id).slice(0, limit);
  return { scope: scopeView(scope), ...windowView(w), items };
}

export type WorkflowActivity = {
  workflow_id: number;
  name: string | null;
  runs_started: number;
  runs_completed: number;
  runs_failed: number;
  failure_rate: number | null;
  documents_generated: number;
  documents_edited: number;
  tokens_in: number;
  tokens_out: number;
  /** The per-workflow run analytics (durations, per node, per day) live there. */
  analytics_url: string;
};

/**
 * Per-workflow activity in the window: runs, documents and tokens. Tokens are those of runs
 * that finished in the window (a run's totals are final when it ends). Durations and per-node
 * figures are not repeated here: `analytics_url` points at the workflow's run analytics.
 */
export async function workflowActivity(
  db: DB,
  scope: Scope,
  w: Window,
  limit: number,
  order: 'runs_started' | 'runs_failed' | 'tokens' = 'runs_started',
): Promise<WorkflowActivity[]> {
  const mine = scope.userId === null ? sql`1 = 1` : sql`owner_id = ${scope.userId}`;
  const rows = await db.all<{ workflow_id: number; type: string; n: number }>(sql`SELECT workflow_id, type, count(*) AS n
    FROM (${eventsSql(scope, w.start, w.end)}) WHERE workflow_id IS NOT NULL AND type IN ('run.started', 'run.completed', 'run.failed', 'document.generated', 'document.edited')
    GROUP BY workflow_id, type`);
  const tokens = await db.all<{
    workflow_id: number;
    tin: number;
    tout: number;
  }>(sql`SELECT workflow_id, sum(tokens_in) AS tin, sum(tokens_out) AS tout
    FROM runs WHERE finished_at >= ${w.start} AND finished_at < ${w.end} AND ${mine} GROUP BY workflow_id`);
  const byId = new Map<number, WorkflowActivity>();
  const get = (id: number) => {
    let a = byId.get(id);
    if (!a) {
      a = {
        workflow_id: id,
        name: null,
        runs_started: 0,
        runs_completed: 0,
        runs_failed: 0,
        failure_rate: null,
        documents_generated: 0,
        documents_edited: 0,
        tokens_in: 0,
        tokens_out: 0,
        analytics_url: `/api/v3/workflows/${id}/analytics`,
      };
      byId.set(id, a);
    }
    return a;
  };
  const field = {
    'run.started': 'runs_started',
    'run.completed': 'runs_completed',
    'run.failed': 'runs_failed',
    'document.generated': 'documents_generated',
    'document.edited': 'documents_edited',
  } as const;
  for (const r of rows) get(r.workflow_id)[field[r.type as keyof typeof field]] = r.n;
  for (const t of tokens) Object.assign(get(t.workflow_id), { tokens_in: t.tin, tokens_out: t.tout });
  for (const a of byId.values()) {
    const finished = a.runs_completed + a.runs_failed;
    a.failure_rate = finished ? Math.round((a.runs_failed / finished) * 1000) / 1000 : null;
  }
  const key = (a: WorkflowActivity) => (order === 'tokens' ? a.tokens_in + a.tokens_out : a[order]);
  const top = [...byId.values()].sort((a, b) => key(b) - key(a) || a.workflow_id - b.workflow_id).slice(0, limit);
  if (top.length) {
    const names = await db.all<{ id: number; name: string }>(
      sql`SELECT id, name FROM workflows WHERE id IN (${sql.join(
        top.map((a) => sql`${a.workflow_id}`),
        sql`, `,
      )})`,
    );
    for (const n of names) byId.get(n.id)!.name = n.name;
  }
  return top;
}

/** Most active users, most run and most failing workflows in the window. */
export async function topLists(db: DB, scope: Scope, w: Window, limit: number) {
  const [users, byRuns, byFailures] = await Promise.all([
    userActivity(db, scope, w, limit),
    workflowActivity(db, scope, w, limit, 'runs_started'),
    workflowActivity(db, scope, w, limit, 'runs_failed'),
  ]);
  return {
    scope: scopeView(scope),
    ...windowView(w),
    most_active_users: users.items.map((u) => ({ user_id: u.user_id, username: u.username, events: u.total })),
    most_run_workflows: byRuns
      .filter((a) => a.runs_started > 0)
      .map((a) => ({ workflow_id: a.workflow_id, name: a.name, runs_started: a.runs_started, analytics_url: a.analytics_url })),
    most_failing_workflows: byFailures
      .filter((a) => a.runs_failed > 0)
      .map((a) => ({
        workflow_id: a.workflow_id,
        name: a.name,
        runs_failed: a.runs_failed,
        runs_completed: a.runs_completed,
        failure_rate: a.failure_rate,
        analytics_url: a.analytics_url,
      })),
  };
}
