import { log } from '../lib/log';
import { DEFAULT_RETRY, retryDelay } from './backoff';
import type { WorkflowNode } from './definition';
import { executeNode } from './executors';
import type { EnginePorts } from './ports';
import { BudgetExceeded, type RunBudget } from './budget';
import type { AttemptDetail, RunState } from './state';
import type { TemplateContext } from './template';
import { DONE_NODE, NodeError, type NodeRecord, type RunMeta, TERMINAL_RUN } from './types';

/*
 * One attempt at executing a node — or one item of a map node, which has a record of its own —
 * with its timeout, its retries and what it records. The attempt runs in this incarnation of the
 * run's object; its outcome is saved to storage before anything else happens, so an eviction
 * mid-attempt leaves the record `running` with no execution, which the next alarm sees as
 * interrupted and runs again.
 */

const DEFAULT_NODE_TIMEOUT_S = 300;

export type Execution = { controller: AbortController; promise: Promise<void> };

/** The reason an attempt is aborted when what it belongs to has ended (a map that failed fast): the record is cancelled, not failed. */
export class Stopped extends Error {
  override name = 'Stopped';
}

/** What an attempt needs of the run's driver (driver.ts). */
export type AttemptHost = {
  readonly state: RunState;
  readonly ports: EnginePorts;
  /** Attempts in flight in this incarnation, by record id. */
  readonly executions: Map<string, Execution>;
  /** The run's budgets: every model call is checked and counted there. */
  readonly budget: RunBudget;
};

/**
 * Starts an attempt of `def` for the record `rec` (a node, or a map item). `onSucceeded` runs
 * after the success is saved (a node's document is queued for D1 there).
 */
export function startAttempt(
  h: AttemptHost,
  meta: RunMeta,
  rec: NodeRecord,
  def: WorkflowNode,
  ctx: TemplateContext,
  onSucceeded?: (rec: NodeRecord) => void,
): void {
  const { state } = h;
  const now = Date.now();
  rec.startedAt ??= now;
  rec.status = 'running';
  rec.startedAttempts += 1;
  rec.lastAttemptStartedAt = now;
  state.save(rec);
  const attempt = rec.attempts + 1;
  const attemptNo = rec.startedAttempts;
  const delayMs = rec.pendingDelayMs;
  state.emitFor(rec, 'started', { attempt, delay_ms: delayMs });
  const controller = new AbortController();
  const timeoutMs = (def.timeout_seconds ?? DEFAULT_NODE_TIMEOUT_S) * 1000;
  const timer = setTimeout(() => controller.abort(new NodeError(`attempt timed out after ${timeoutMs / 1000}s`, true)), timeoutMs);
  const { deps, used } = h.budget.meter(
    meta,
    h.ports.execution({
      signal: controller.signal,
      onToken: (text) => state.broadcast.token(rec.id, text),
      fallback: meta.settings.fallback_providers,
      ownerId: meta.ownerId,
      trace: { runId: meta.runId, workflowId: meta.workflowId, createdAt: meta.createdAt, nodeId: rec.id, attempt: attemptNo },
    }),
  );
  // Every call of the attempt counts on its record, whether the attempt succeeds or not.
  const charge = () => {
    rec.tokensIn += used.tokensIn;
    rec.tokensOut += used.tokensOut;
    rec.costUsd = (rec.costUsd ?? 0) + used.costUsd;
    return { tokensIn: used.tokensIn, tokensOut: used.tokensOut, costUsd: used.unpriced ? null : used.costUsd };
  };
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
  const promise = Promise.race([executeNode(def, meta.settings, ctx, deps), aborted])
    .then(
      (result) => {
        state.broadcast.flushTokens(rec.id);
        if (TERMINAL_RUN.includes(meta.status)) return afterCancelled(state, rec, attemptNo, now, delayMs);
        rec.attempts = attempt;
        rec.output = result.output;
        Object.assign(rec, { provider: result.provider ?? null, model: result.model ?? null });
        const usage = charge();
        if (result.compaction) {
          rec.contextCompacted = true;
          state.emit('context.compacted', rec.id, { ...result.compaction });
        }
        state.recordAttempt(rec, attemptNo, 'succeeded', now, {
          delayMs,
          provider: result.provider,
          model: result.model,
          ...usage,
        });
        state.finishNode(rec, 'succeeded', null);
        onSucceeded?.(rec);
      },
      (err: unknown) => {
        state.broadcast.flushTokens(rec.id);
        if (TERMINAL_RUN.includes(meta.status) || err instanceof Stopped) return afterCancelled(state, rec, attemptNo, now, delayMs);
        if (err instanceof BudgetExceeded) return pauseForBudget(state, meta, rec, attemptNo, now, { delayMs, ...charge() }, err);
        const error = err instanceof Error ? err.message : String(err);
        const retryable = err instanceof NodeError ? err.retryable : false;
        if (!(err instanceof NodeError)) log(h.ports.logLevel, 'error', 'node crashed', { runId: meta.runId, node: rec.id, error });
        rec.attempts = attempt;
        state.recordAttempt(rec, attemptNo, 'failed', now, {
          delayMs,
          error,
          retryable,
          provider: err instanceof NodeError ? err.provider : undefined,
          ...charge(),
        });
        const policy = ('retry' in def ? def.retry : undefined) ?? DEFAULT_RETRY;
        if (retryable && attempt < policy.max_attempts) {
          // The provider's own advice (retry-after) is the least the next attempt waits.
          const delay = Math.max(retryDelay(policy, attempt), err instanceof NodeError ? (err.retryAfterMs ?? 0) : 0);
          Object.assign(rec, { status: 'retry_wait', nextAttemptAt: Date.now() + delay, pendingDelayMs: delay, error });
          state.save(rec);
          state.emitFor(rec, 'retry_scheduled', { attempt, error, delay_ms: delay });
        } else {
          state.finishNode(rec, 'failed', error, { attempt, retryable });
        }
      },
    )
    .finally(() => {
      clearTimeout(timer);
      h.executions.delete(rec.id);
    });
  h.executions.set(rec.id, { controller, promise });
}

/**
 * A call of the attempt would have passed a budget and was not made: the attempt is recorded as
 * cancelled, the record goes back to pending (it starts again, as attempt 1 of what remains, when
 * the run resumes), and the run pauses with the reason. Calls already in flight finish.
 */
function pauseForBudget(
  state: RunState,
  meta: RunMeta,
  rec: NodeRecord,
  attemptNo: number,
  startedAt: number,
  detail: AttemptDetail,
  err: BudgetExceeded,
): void {
  state.recordAttempt(rec, attemptNo, 'cancelled', startedAt, { ...detail, error: `budget exceeded: ${err.message}` });
  Object.assign(rec, { status: 'pending', nextAttemptAt: null, pendingDelayMs: 0 });
  state.save(rec);
  state.emitFor(rec, 'budget_exceeded', { ...err.overrun, needed: Number.isNaN(err.overrun.needed) ? null : err.overrun.needed });
  if (meta.status === 'paused') return;
  meta.pauseReason = { code: 'budget_exceeded', message: err.message, limit: err.overrun.limit };
  state.setStatus(meta, 'paused', 'run.paused', { reason: 'budget_exceeded', limit: err.overrun.limit, message: err.message });
}

/** The run stopped while this attempt was in flight: its result is discarded and the record cancelled. */
export function afterCancelled(state: RunState, rec: NodeRecord, attemptNo: number, startedAt: number, delayMs: number): void {
  state.recordAttempt(rec, attemptNo, 'cancelled', startedAt, { delayMs, error: 'run stopped during this attempt' });
  if (!DONE_NODE.includes(rec.status)) state.finishNode(rec, 'cancelled', 'run cancelled');
}

/** A record whose attempt was in flight when a previous incarnation died: its result was never recorded. Run it again. */
export function interrupted(state: RunState, rec: NodeRecord): void {
  state.recordAttempt(rec, rec.startedAttempts, 'interrupted', rec.lastAttemptStartedAt ?? Date.now(), {
    error: 'the run object restarted during this attempt',
  });
  // The interrupted attempt counts: the node's `attempts`, its attempt list and the `attempt` of
  // its next `node.started` event all agree (the next one is number startedAttempts + 1).
  rec.attempts = rec.startedAttempts;
  rec.status = 'pending';
  state.save(rec);
  state.emitFor(rec, 'interrupted', { attempt: rec.attempts });
}
