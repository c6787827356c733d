import { asc, eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { nodeAttempts, runs } from '../db/schema';
import type { RunView } from '../engine';
import { toIso, toIsoOrNull } from '../lib/time';
import { runOutput } from '../engine';

/** A run as the API shows it: the object's live state plus the attempt history from D1. */
export async function publicRun(db: DB, view: RunView) {
  const { meta } = view;
  const [attempts, forks] = await db.batch([
    db
      .select()
      .from(nodeAttempts)
      .where(eq(nodeAttempts.runId, meta.runId))
      .orderBy(asc(nodeAttempts.startedAt), asc(nodeAttempts.attempt)),
    db.select({ id: runs.id }).from(runs).where(eq(runs.forkedFromRunId, meta.runId)).orderBy(asc(runs.id)).limit(100),
  ]);
  const nodes = new Map(view.nodes.map((n) => [n.id, n]));
  return {
    id: meta.runId,
    workflow_id: meta.workflowId,
    workflow_version: meta.workflowVersion,
    status: meta.status,
    input: meta.input,
    output: meta.status === 'succeeded' ? runOutput(meta, nodes) : null,
    error: meta.error,
    parent_run_id: meta.parent?.runId ?? null,
    forked_from: meta.fork ? { run_id: meta.fork.runId, node_id: meta.fork.fromNode } : null,
    forks: forks.map((f) => f.id),
    budget: meta.budget ? { max_cost_usd: meta.budget.maxCostUsd ?? null, max_tokens: meta.budget.maxTokens ?? null } : null,
    spent: { tokens_in: meta.spent?.tokensIn ?? 0, tokens_out: meta.spent?.tokensOut ?? 0, cost_usd: meta.spent?.costUsd ?? 0 },
    pause_reason: meta.status === 'paused' && meta.pauseReason ? meta.pauseReason : null,
    created_at: toIso(meta.createdAt),
    started_at: toIsoOrNull(meta.startedAt),
    finished_at: toIsoOrNull(meta.finishedAt),
    last_event_seq: view.lastSeq,
    reviews: (meta.reviews ?? []).map(({ key, ...r }) => ({ ...r, at: toIso(r.at) })),
    nodes: meta.nodes.map((def) => {
      const n = nodes.get(def.id)!;
      return {
        id: n.id,
        type: def.type,
        status: n.status,
        attempts: n.attempts,
        started_at: toIsoOrNull(n.startedAt),
        finished_at: toIsoOrNull(n.finishedAt),
        next_attempt_at: n.status === 'retry_wait' ? toIsoOrNull(n.nextAttemptAt) : null,
        waiting_until: n.status === 'waiting' ? toIsoOrNull(n.waitUntil) : null,
        error: n.error,
        output: n.output
          ? {
              text: n.output.text,
              title: n.output.title ?? null,
              data: n.output.data ?? null,
              document_id: n.output.documentId ?? null,
              citations: n.output.citations ?? [],
            }
          : null,
        provider: n.provider,
        model: n.model,
        language_model: n.provider === null ? null : n.provider !== 'local',
        tokens_in: n.tokensIn,
        tokens_out: n.tokensOut,
        cost_usd: n.costUsd ?? 0,
        context_compacted: n.contextCompacted,
        child_run_id: n.childRunId,
        progress: view.maps?.[n.id] ?? null,
        iteration: n.loop?.iteration ?? null,
        reused_from_run_id: n.reusedFrom ?? null,
      };
    }),
    attempts: attempts.map((a) => ({
      node_id: a.nodeId,
      attempt: a.attempt,
      status: a.status,
      started_at: toIso(a.startedAt),
      finished_at: toIso(a.finishedAt),
      latency_ms: a.latencyMs,
      delay_ms: a.delayMs,
      error: a.error,
      retryable: a.retryable,
      provider: a.provider,
      model: a.model,
      tokens_in: a.tokensIn,
      tokens_out: a.tokensOut,
      cost_usd: a.costUsd,
    })),
  };
}

export function runSummary(r: typeof runs.$inferSelect) {
  return {
    id: r.id,
    workflow_id: r.workflowId,
    workflow_version: r.workflowVersion,
    status: r.status,
    error: r.error,
    tokens_in: r.tokensIn,
    tokens_out: r.tokensOut,
    cost_usd: r.costUsd,
    retries: r.retries,
    created_at: toIso(r.createdAt),
    started_at: toIsoOrNull(r.startedAt),
    finished_at: toIsoOrNull(r.finishedAt),
  };
}
