import { and, eq, gte } from 'drizzle-orm';
import type { DB } from '../db/client';
import { runNodes, runs } from '../db/schema';

/** Nearest-rank percentile of an ascending list; null for an empty one. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * A workflow's analytics over the last `days`, counted from the stored runs and node rows
 * (the projections each run object writes): nothing is estimated or kept in memory.
 */
export async function workflowAnalytics(db: DB, workflowId: number, days: number) {
  const since = Date.now() - days * 86_400_000;
  const rows = await db
    .select({
      id: runs.id,
      status: runs.status,
      createdAt: runs.createdAt,
      startedAt: runs.startedAt,
      finishedAt: runs.finishedAt,
      tokensIn: runs.tokensIn,
      tokensOut: runs.tokensOut,
      retries: runs.retries,
      costUsd: runs.costUsd,
    })
    .from(runs)
    .where(and(eq(runs.workflowId, workflowId), gte(runs.createdAt, since)))
    .all();
  const nodeRows = await db
    .select({ nodeId: runNodes.nodeId, durationMs: runNodes.durationMs, status: runNodes.status })
    .from(runNodes)
    .innerJoin(runs, eq(runs.id, runNodes.runId))
    .where(and(eq(runs.workflowId, workflowId), gte(runs.createdAt, since)))
    .all();

  const byStatus: Record<string, number> = {};
  const perDay = new Map<string, { runs: number; succeeded: number; failed: number; cost_usd: number }>();
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const day = new Date(r.createdAt).toISOString().slice(0, 10);
    const d = perDay.get(day) ?? { runs: 0, succeeded: 0, failed: 0, cost_usd: 0 };
    d.runs++;
    d.cost_usd += r.costUsd;
    if (r.status === 'succeeded') d.succeeded++;
    if (r.status === 'failed') d.failed++;
    perDay.set(day, d);
  }
  const finished = (byStatus.succeeded ?? 0) + (byStatus.failed ?? 0) + (byStatus.cancelled ?? 0);
  const finishedCost = rows.filter((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status)).reduce((s, r) => s + r.costUsd, 0);
  const durations = rows
    .filter((r) => r.status === 'succeeded' && r.startedAt !== null && r.finishedAt !== null)
    .map((r) => r.finishedAt! - r.startedAt!)
    .sort((a, b) => a - b);
  const perNode = new Map<string, number[]>();
  for (const n of nodeRows) {
    if (n.status !== 'succeeded' || n.durationMs === null) continue;
    perNode.set(n.nodeId, [...(perNode.get(n.nodeId) ?? []), n.durationMs]);
  }
  return {
    workflow_id: workflowId,
    window_days: days,
    runs: { total: rows.length, by_status: byStatus },
    success_rate: finished ? (byStatus.succeeded ?? 0) / finished : null,
    run_duration_ms: { p50: percentile(durations, 50), p95: percentile(durations, 95) },
    node_duration_ms: Object.fromEntries(
      [...perNode].map(([id, list]) => {
        const sorted = list.sort((a, b) => a - b);
        return [id, { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }];
      }),
    ),
    tokens: { in: rows.reduce((s, r) => s + r.tokensIn, 0), out: rows.reduce((s, r) => s + r.tokensOut, 0) },
    cost_usd: { total: rows.reduce((s, r) => s + r.costUsd, 0), per_run: finished ? finishedCost / finished : null },
    retries: rows.reduce((s, r) => s + r.retries, 0),
    runs_per_day: [...perDay].sort(([a], [b]) => a.localeCompare(b)).map(([day, d]) => ({ day, ...d })),
  };
}
