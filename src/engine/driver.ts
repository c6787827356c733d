import { log } from '../lib/log';
import { DEFAULT_RETRY, retryDelay } from './backoff';
import { executeNode } from './executors';
import { nextStep } from './graph';
import { RunOutbox } from './outbox';
import type { EnginePorts } from './ports';
import { runOutput } from './projection';
import { RunState } from './state';
import { DONE_NODE, NodeError, type NodeRecord, type RunMeta, TERMINAL_RUN } from './types';
import { decideApproval, pollSubchain, startApproval, startSubchain } from './waits';

/**
 * The scheduling half of a run: the alarm-driven loop, node attempts with timeouts and retries,
 * the run's outcome, and when the outbox is flushed. RunEngine (engine.ts) holds one and adds the
 * operations callers use; see it for the guarantees. State changes go through RunState
 * (state.ts), what leaves the object through RunOutbox (outbox.ts).
 */
export const WATCHDOG_MS = 30_000;
const DEFAULT_NODE_TIMEOUT_S = 300;

/** What the driver needs of its Durable Object: storage (SQL and the alarm) and waitUntil. */
export type RunHost = Pick<DurableObjectState, 'storage' | 'waitUntil'>;

type Execution = { controller: AbortController; promise: Promise<void> };

export class RunDriver {
  readonly state: RunState;
  readonly outbox: RunOutbox;
  private readonly executions = new Map<string, Execution>();
  private driving = false;

  constructor(
    readonly host: RunHost,
    readonly ports: EnginePorts,
  ) {
    this.state = new RunState(host.storage.sql, () => this.outbox.publishToRoom());
    this.outbox = new RunOutbox(this.state, ports, host);
  }

  // ---- the loop --------------------------------------------------------------------------

  async alarm(): Promise<void> {
    if (!this.state.hasRun()) return;
    if (this.driving) {
      // The loop of this incarnation is alive and will schedule what comes next.
      await this.host.storage.setAlarm(Date.now() + WATCHDOG_MS);
      return;
    }
    this.driving = true;
    try {
      await this.drive();
    } finally {
      this.driving = false;
    }
  }

  private async drive(): Promise<void> {
    const meta = this.state.meta();
    const nodes = this.state.nodes();
    for (const rec of nodes.values()) {
      if (rec.status === 'running' && !this.executions.has(rec.id)) {
        // In flight when a previous incarnation died: its result was never recorded. Run it again.
        this.state.recordAttempt(rec, rec.startedAttempts, 'interrupted', rec.lastAttemptStartedAt ?? Date.now(), {
          error: 'the run object restarted during this attempt',
        });
        rec.status = 'pending';
        this.state.store.saveNode(rec);
        this.state.emit('node.interrupted', rec.id, { attempt: rec.attempts + 1 });
      }
    }
    if (meta.status === 'queued') {
      meta.startedAt = Date.now();
      this.state.setStatus(meta, 'running', 'run.started');
    }
    if (TERMINAL_RUN.includes(meta.status) || meta.status === 'paused') return this.settle(meta);
    await this.host.storage.setAlarm(Date.now() + WATCHDOG_MS);

    for (;;) {
      this.advance(meta, nodes);
      if (this.executions.size === 0) break;
      // Wake when an attempt ends, or when something falls due meanwhile (a retry, an approval
      // timeout, the run's deadline), whichever is first.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const due = this.nextDue(meta);
      await Promise.race([
        ...[...this.executions.values()].map((e) => e.promise),
        ...(due === null ? [] : [new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, due - Date.now()))))]),
      ]);
      if (timer !== undefined) clearTimeout(timer);
      await this.outbox.flush(meta);
    }
    await this.settle(meta);
  }

  /** One scheduling pass: timeouts, due retries, skips, starts, and the run's own outcome. */
  private advance(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
    const now = Date.now();
    if (TERMINAL_RUN.includes(meta.status) || meta.status === 'paused') return;
    if (meta.status !== 'waiting' && now >= meta.deadlineAt) {
      this.stopRun(meta, 'failed', `run exceeded its ${meta.settings.timeout_seconds}s timeout`);
      return;
    }
    for (const rec of nodes.values()) {
      const def = meta.nodes.find((d) => d.id === rec.id)!;
      if (rec.status === 'retry_wait' && rec.nextAttemptAt !== null && rec.nextAttemptAt <= now) {
        rec.status = 'pending';
        this.state.store.saveNode(rec);
      } else if (rec.status === 'waiting' && rec.waitUntil !== null && rec.waitUntil <= now) {
        if (def.type === 'approval') decideApproval(this, rec, def.on_timeout === 'approve', 'approval timed out', null, true);
        else if (def.type === 'subchain' && rec.childRunId !== null) pollSubchain(this, rec);
      }
    }
    const failed = [...nodes.values()].some((n) => n.status === 'failed');
    if (!failed) {
      const step = nextStep(meta.nodes, nodes);
      for (const id of step.skip) this.state.finishNode(nodes.get(id)!, 'skipped', null);
      if (step.skip.length) {
        this.advance(meta, nodes);
        return;
      }
      for (const id of step.ready) {
        if (this.executions.size >= meta.settings.concurrency) break;
        this.startNode(meta, nodes.get(id)!);
      }
    }
    const open = [...nodes.values()].filter((n) => !DONE_NODE.includes(n.status));
    if (this.executions.size > 0) return;
    if (failed) {
      meta.error = [...nodes.values()].find((n) => n.status === 'failed')?.error ?? 'a node failed';
      this.state.finishRun(meta, 'failed');
    } else if (open.length === 0) {
      this.state.finishRun(meta, 'succeeded');
    } else if (meta.status !== 'waiting' && open.some((n) => n.status === 'waiting') && !open.some((n) => n.status === 'retry_wait')) {
      // Nothing runs and nothing is due: the run now only moves on an approval or a child run.
      this.state.setStatus(meta, 'waiting', 'run.waiting');
    }
  }

  private startNode(meta: RunMeta, rec: NodeRecord): void {
    const def = meta.nodes.find((d) => d.id === rec.id)!;
    const now = Date.now();
    rec.startedAt ??= now;
    if (meta.status === 'waiting') this.state.setStatus(meta, 'running', 'run.resumed');
    if (def.type === 'approval' || def.type === 'subchain') {
      const ctx = this.state.templateContext(meta);
      if (def.type === 'approval') startApproval(this, meta, rec, def, ctx);
      else startSubchain(this, meta, rec, def, ctx);
      return;
    }
    rec.status = 'running';
    rec.startedAttempts += 1;
    rec.lastAttemptStartedAt = now;
    this.state.store.saveNode(rec);
    const attempt = rec.attempts + 1;
    const attemptNo = rec.startedAttempts;
    const delayMs = rec.pendingDelayMs;
    this.state.emit('node.started', rec.id, { attempt, delay_ms: delayMs });
    const controller = new AbortController();
    const timeoutMs = (def.timeout_seconds ?? DEFAULT_NODE_TIMEOUT_S) * 1000;
    const timer = setTimeout(() => controller.abort(new NodeError(`attempt timed out after ${timeoutMs / 1000}s`, true)), timeoutMs);
    const ctx = this.state.templateContext(meta);
    const deps = this.ports.execution({
      signal: controller.signal,
      onToken: (text) => this.state.broadcast.token(rec.id, text),
      fallback: meta.settings.fallback_providers,
    });
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    const promise = Promise.race([executeNode(def, meta.settings, ctx, deps), aborted])
      .then(
        (result) => {
          this.state.broadcast.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          rec.attempts = attempt;
          rec.output = result.output;
          Object.assign(rec, { provider: result.provider ?? null, model: result.model ?? null });
          rec.tokensIn += result.tokensIn;
          rec.tokensOut += result.tokensOut;
          if (result.compaction) {
            rec.contextCompacted = true;
            this.state.emit('context.compacted', rec.id, { ...result.compaction });
          }
          this.state.recordAttempt(rec, attemptNo, 'succeeded', now, {
            delayMs,
            provider: result.provider,
            model: result.model,
            tokensIn: result.tokensIn,
            tokensOut: result.tokensOut,
          });
          this.state.finishNode(rec, 'succeeded', null);
          if (result.output.title !== undefined) this.state.store.enqueue({ kind: 'document', nodeId: rec.id });
        },
        (err: unknown) => {
          this.state.broadcast.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          const error = err instanceof Error ? err.message : String(err);
          const retryable = err instanceof NodeError ? err.retryable : false;
          if (!(err instanceof NodeError)) log(this.ports.logLevel, 'error', 'node crashed', { runId: meta.runId, node: rec.id, error });
          rec.attempts = attempt;
          this.state.recordAttempt(rec, attemptNo, 'failed', now, {
            delayMs,
            error,
            retryable,
            provider: err instanceof NodeError ? err.provider : undefined,
          });
          const policy = def.retry ?? DEFAULT_RETRY;
          if (retryable && attempt < policy.max_attempts) {
            // The provider's own advice (retry-after) is the least the next attempt waits.
            const delay = Math.max(retryDelay(policy, attempt), err instanceof NodeError ? (err.retryAfterMs ?? 0) : 0);
            Object.assign(rec, { status: 'retry_wait', nextAttemptAt: Date.now() + delay, pendingDelayMs: delay, error });
            this.state.store.saveNode(rec);
            this.state.emit('node.retry_scheduled', rec.id, { attempt, error, delay_ms: delay });
          } else {
            this.state.finishNode(rec, 'failed', error, { attempt, retryable });
          }
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.executions.delete(rec.id);
      });
    this.executions.set(rec.id, { controller, promise });
  }

  /** Ends the run now: nodes not yet done are cancelled, attempts in flight are aborted. */
  stopRun(meta: RunMeta, status: 'failed' | 'cancelled', reason: string): void {
    for (const rec of this.state.nodes().values()) {
      if (rec.status === 'waiting' && rec.childRunId !== null) {
        // A child run of a stopped parent would only be wasted work: stop it too.
        this.host.waitUntil(this.ports.children.cancel(rec.childRunId, `parent run ${meta.runId} stopped: ${reason}`));
      }
      if (!DONE_NODE.includes(rec.status) && !this.executions.has(rec.id)) this.state.finishNode(rec, 'cancelled', reason);
    }
    meta.error = reason;
    this.state.finishRun(meta, status);
    for (const exec of this.executions.values()) exec.controller.abort(new NodeError(reason, false));
  }

  private afterCancelled(rec: NodeRecord, attemptNo: number, startedAt: number, delayMs: number): void {
    this.state.recordAttempt(rec, attemptNo, 'cancelled', startedAt, { delayMs, error: 'run stopped during this attempt' });
    if (!DONE_NODE.includes(rec.status)) this.state.finishNode(rec, 'cancelled', 'run cancelled');
  }

  // ---- after the loop: outbox, room, parent, next alarm -----------------------------------

  /** Flushes the outbox, publishes to the room, tells a parent, and arms the next alarm (or none). */
  async settle(meta: RunMeta): Promise<void> {
    await this.outbox.flush(meta);
    this.outbox.publishToRoom();
    // What the outbox still holds (D1 or the queue refused it) is tried again by a later alarm.
    const retryAt = this.outbox.hasPending() ? Date.now() + this.outbox.retryDelay() : null;
    if (TERMINAL_RUN.includes(meta.status)) {
      if (retryAt === null) await this.host.storage.deleteAlarm();
      else await this.host.storage.setAlarm(retryAt);
      this.state.broadcast.closeAll();
      if (meta.parent) this.host.waitUntil(this.notifyParent(meta, meta.parent));
      return;
    }
    if (this.executions.size > 0) return;
    const due = meta.status === 'paused' ? null : this.nextDue(meta);
    const next = retryAt === null ? due : due === null ? retryAt : Math.min(due, retryAt);
    if (next !== null) await this.host.storage.setAlarm(next);
  }

  /** The next time something falls due: a retry, a wait's end, or the run's deadline. */
  private nextDue(meta: RunMeta): number | null {
    const nodes = [...this.state.nodes().values()];
    const times = [
      ...nodes.filter((n) => n.status === 'retry_wait').map((n) => n.nextAttemptAt ?? Date.now()),
      ...nodes.filter((n) => n.status === 'waiting').map((n) => n.waitUntil ?? Date.now()),
      ...(meta.status === 'waiting' ? [] : [meta.deadlineAt]),
    ];
    return times.length ? Math.min(...times) : null;
  }

  private async notifyParent(meta: RunMeta, parent: { runId: number; nodeId: string }): Promise<void> {
    await this.ports.children.notifyParent(parent, {
      runId: meta.runId,
      status: meta.status,
      output: meta.status === 'succeeded' ? runOutput(meta, this.state.nodes()) : null,
      error: meta.error,
    });
  }

  /** Wakes the loop now (after an approval, a child's outcome, a resume). */
  wake(): Promise<void> {
    return this.host.storage.setAlarm(Date.now());
  }
}
