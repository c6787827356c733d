import type { DomainEvent } from '../../lib/events';
import { log } from '../../lib/log';
import { DEFAULT_RETRY, retryDelay } from './backoff';
import { RunBroadcast } from './broadcast';
import { nextStep } from './graph';
import type { EnginePorts } from './ports';
import { type AttemptRow, RunStore } from './storage';
import type { TemplateContext } from './template';
import { decideApproval, pollSubchain, startApproval, startSubchain } from './waits';
import { executeNode } from './executors';
import { flushProjection, runOutput } from './projection';
import { DONE_NODE, NodeError, type NodeRecord, type RunEvent, type RunMeta, TERMINAL_RUN } from './types';

/**
 * The scheduling half of a run: the alarm-driven loop, node attempts with timeouts and retries,
 * the run's outcome, and its outbox (the D1 projection and domain events). RunEngine (engine.ts)
 * holds one and adds the operations callers use; see it for the guarantees.
 */
export const WATCHDOG_MS = 30_000;
const DEFAULT_NODE_TIMEOUT_S = 300;
/** A flush that failed (D1 or the queue unavailable) is tried again after 5 s, doubling to 5 min. */
const OUTBOX_RETRY_MS = 5_000;
const OUTBOX_RETRY_MAX_MS = 300_000;

/** What the driver needs of its Durable Object: storage (SQL and the alarm) and waitUntil. */
export type RunHost = Pick<DurableObjectState, 'storage' | 'waitUntil'>;

type Execution = { controller: AbortController; promise: Promise<void> };

export class RunDriver {
  readonly store: RunStore;
  readonly broadcast: RunBroadcast;
  private readonly executions = new Map<string, Execution>();
  private driving = false;
  private roomPublishing: Promise<void> = Promise.resolve();
  private roomPublishQueued = false;
  // Write-through caches of the stored state. One incarnation has exactly one meta object and one
  // record per node, so the driver loop, RPCs (cancel, pause) and completions all see each
  // other's changes; every change is also saved to storage at once.
  private cachedMeta: RunMeta | null = null;
  private cachedNodes: Map<string, NodeRecord> | null = null;

  constructor(
    readonly host: RunHost,
    readonly ports: EnginePorts,
  ) {
    this.store = new RunStore(host.storage.sql);
    this.broadcast = new RunBroadcast(this.store, () => this.publishToRoom());
  }

  // ---- the loop --------------------------------------------------------------------------

  async alarm(): Promise<void> {
    if (!this.cachedMeta && !this.store.meta()) return;
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
    const meta = this.meta();
    const nodes = this.nodes();
    for (const rec of nodes.values()) {
      if (rec.status === 'running' && !this.executions.has(rec.id)) {
        // In flight when a previous incarnation died: its result was never recorded. Run it again.
        this.recordAttempt(rec, rec.startedAttempts, 'interrupted', rec.lastAttemptStartedAt ?? Date.now(), {
          error: 'the run object restarted during this attempt',
        });
        rec.status = 'pending';
        this.store.saveNode(rec);
        this.emit('node.interrupted', rec.id, { attempt: rec.attempts + 1 });
      }
    }
    if (meta.status === 'queued') {
      meta.startedAt = Date.now();
      this.setStatus(meta, 'running', 'run.started');
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
      await this.flush(meta);
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
        this.store.saveNode(rec);
      } else if (rec.status === 'waiting' && rec.waitUntil !== null && rec.waitUntil <= now) {
        if (def.type === 'approval') decideApproval(this, rec, def.on_timeout === 'approve', 'approval timed out', null, true);
        else if (def.type === 'subchain' && rec.childRunId !== null) pollSubchain(this, rec);
      }
    }
    const failed = [...nodes.values()].some((n) => n.status === 'failed');
    if (!failed) {
      const step = nextStep(meta.nodes, nodes);
      for (const id of step.skip) this.finishNode(nodes.get(id)!, 'skipped', null);
      if (step.skip.length) {
        this.advance(meta, nodes);
        return;
      }
      for (const id of step.ready) {
        if (this.executions.size >= meta.settings.concurrency) break;
        this.startNode(meta, nodes, nodes.get(id)!);
      }
    }
    const open = [...nodes.values()].filter((n) => !DONE_NODE.includes(n.status));
    if (this.executions.size > 0) return;
    if (failed) {
      meta.error = [...nodes.values()].find((n) => n.status === 'failed')?.error ?? 'a node failed';
      this.finishRun(meta, 'failed');
    } else if (open.length === 0) {
      this.finishRun(meta, 'succeeded');
    } else if (meta.status !== 'waiting' && open.some((n) => n.status === 'waiting') && !open.some((n) => n.status === 'retry_wait')) {
      // Nothing runs and nothing is due: the run now only moves on an approval or a child run.
      this.setStatus(meta, 'waiting', 'run.waiting');
    }
  }

  private startNode(meta: RunMeta, nodes: Map<string, NodeRecord>, rec: NodeRecord): void {
    const def = meta.nodes.find((d) => d.id === rec.id)!;
    const now = Date.now();
    rec.startedAt ??= now;
    if (meta.status === 'waiting') this.setStatus(meta, 'running', 'run.resumed');
    if (def.type === 'approval' || def.type === 'subchain') {
      const ctx = this.templateContext(meta, nodes);
      if (def.type === 'approval') startApproval(this, meta, rec, def, ctx);
      else startSubchain(this, meta, rec, def, ctx);
      return;
    }
    rec.status = 'running';
    rec.startedAttempts += 1;
    rec.lastAttemptStartedAt = now;
    this.store.saveNode(rec);
    const attempt = rec.attempts + 1;
    const attemptNo = rec.startedAttempts;
    const delayMs = rec.pendingDelayMs;
    this.emit('node.started', rec.id, { attempt, delay_ms: delayMs });
    const controller = new AbortController();
    const timeoutMs = (def.timeout_seconds ?? DEFAULT_NODE_TIMEOUT_S) * 1000;
    const timer = setTimeout(() => controller.abort(new NodeError(`attempt timed out after ${timeoutMs / 1000}s`, true)), timeoutMs);
    const ctx = this.templateContext(meta, nodes);
    const deps = this.ports.execution({
      signal: controller.signal,
      onToken: (text) => this.broadcast.token(rec.id, text),
      fallback: meta.settings.fallback_providers,
    });
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    const promise = Promise.race([executeNode(def, meta.settings, ctx, deps), aborted])
      .then(
        (result) => {
          this.broadcast.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          rec.attempts = attempt;
          rec.output = result.output;
          Object.assign(rec, { provider: result.provider ?? null, model: result.model ?? null });
          rec.tokensIn += result.tokensIn;
          rec.tokensOut += result.tokensOut;
          if (result.compaction) {
            rec.contextCompacted = true;
            this.emit('context.compacted', rec.id, { ...result.compaction });
          }
          this.recordAttempt(rec, attemptNo, 'succeeded', now, {
            delayMs,
            provider: result.provider,
            model: result.model,
            tokensIn: result.tokensIn,
            tokensOut: result.tokensOut,
          });
          this.finishNode(rec, 'succeeded', null);
          if (result.output.title !== undefined) this.store.enqueue({ kind: 'document', nodeId: rec.id });
        },
        (err: unknown) => {
          this.broadcast.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          const error = err instanceof Error ? err.message : String(err);
          const retryable = err instanceof NodeError ? err.retryable : false;
          if (!(err instanceof NodeError)) log(this.ports.logLevel, 'error', 'node crashed', { runId: meta.runId, node: rec.id, error });
          rec.attempts = attempt;
          this.recordAttempt(rec, attemptNo, 'failed', now, {
            delayMs,
            error,
            retryable,
            provider: err instanceof NodeError ? err.provider : undefined,
          });
          const policy = def.retry ?? DEFAULT_RETRY;
          if (retryable && attempt < policy.max_attempts) {
            const delay = retryDelay(policy, attempt);
            Object.assign(rec, { status: 'retry_wait', nextAttemptAt: Date.now() + delay, pendingDelayMs: delay, error });
            this.store.saveNode(rec);
            this.emit('node.retry_scheduled', rec.id, { attempt, error, delay_ms: delay });
          } else {
            this.finishNode(rec, 'failed', error, { attempt, retryable });
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
    for (const rec of this.nodes().values()) {
      if (rec.status === 'waiting' && rec.childRunId !== null) {
        // A child run of a stopped parent would only be wasted work: stop it too.
        this.host.waitUntil(this.ports.children.cancel(rec.childRunId, `parent run ${meta.runId} stopped: ${reason}`));
      }
      if (!DONE_NODE.includes(rec.status) && !this.executions.has(rec.id)) this.finishNode(rec, 'cancelled', reason);
    }
    meta.error = reason;
    this.finishRun(meta, status);
    for (const exec of this.executions.values()) exec.controller.abort(new NodeError(reason, false));
  }

  private afterCancelled(rec: NodeRecord, attemptNo: number, startedAt: number, delayMs: number): void {
    this.recordAttempt(rec, attemptNo, 'cancelled', startedAt, { delayMs, error: 'run stopped during this attempt' });
    if (!DONE_NODE.includes(rec.status)) this.finishNode(rec, 'cancelled', 'run cancelled');
  }

  // ---- state changes: each saved to storage at once, with its event --------------------------

  finishNode(
    rec: NodeRecord,
    status: 'succeeded' | 'failed' | 'skipped' | 'cancelled',
    error: string | null,
    extra: Record<string, unknown> = {},
  ): void {
    Object.assign(rec, { status, error, finishedAt: Date.now(), nextAttemptAt: null, waitUntil: null });
    this.store.saveNode(rec);
    const data: Record<string, unknown> = { ...extra, attempts: rec.attempts };
    if (status === 'succeeded' && rec.output) {
      Object.assign(data, {
        title: rec.output.title ?? null,
        preview: rec.output.text.slice(0, 280),
        provider: rec.provider,
        model: rec.model,
        tokens_in: rec.tokensIn,
        tokens_out: rec.tokensOut,
      });
    }
    if (error) data.error = error;
    this.emit(`node.${status}`, rec.id, data);
  }

  private recordAttempt(
    rec: NodeRecord,
    attemptNo: number,
    status: AttemptRow['status'],
    startedAt: number,
    x: {
      delayMs?: number;
      error?: string;
      retryable?: boolean;
      provider?: string | undefined;
      model?: string | undefined;
      tokensIn?: number;
      tokensOut?: number;
    },
  ): void {
    const attempt: AttemptRow = {
      nodeId: rec.id,
      attempt: attemptNo,
      status,
      startedAt,
      finishedAt: Date.now(),
      delayMs: x.delayMs ?? 0,
      error: x.error ?? null,
      retryable: x.retryable ?? null,
      provider: x.provider ?? null,
      model: x.model ?? null,
      tokensIn: x.tokensIn ?? 0,
      tokensOut: x.tokensOut ?? 0,
    };
    this.store.enqueue({ kind: 'attempt', attempt });
  }

  setStatus(meta: RunMeta, status: RunMeta['status'], event: string): void {
    const now = Date.now();
    const suspended = (s: RunMeta['status']) => s === 'waiting' || s === 'paused';
    if (suspended(status) && !suspended(meta.status)) meta.suspendedAt = now;
    if (!suspended(status) && meta.suspendedAt) {
      meta.deadlineAt += now - meta.suspendedAt;
      meta.suspendedAt = null;
    }
    meta.status = status;
    this.store.saveMeta(meta);
    this.emit(event, null, { status });
  }

  /**
   * The run's outcome. A success or failure is also a domain event (automations listen for it),
   * put in the outbox in the same storage turn as the status, so neither exists without the other.
   */
  private finishRun(meta: RunMeta, status: 'succeeded' | 'failed' | 'cancelled'): void {
    if (TERMINAL_RUN.includes(meta.status)) return;
    meta.finishedAt = Date.now();
    this.setStatus(meta, status, `run.${status}`);
    if (status === 'cancelled') return;
    this.raise({
      id: `run:${meta.runId}:${status}`,
      type: status === 'succeeded' ? 'workflow.completed' : 'workflow.failed',
      ownerId: meta.ownerId,
      at: meta.finishedAt,
      data: { run_id: meta.runId, workflow_id: meta.workflowId, workflow_name: meta.workflowName, status, error: meta.error },
      effectRef: `run:${meta.runId}`,
    });
  }

  /** Puts a domain event in the run's outbox; the next flush hands it to the events queue. */
  raise(event: DomainEvent): void {
    this.store.enqueue({ kind: 'event', event });
  }

  // ---- after the loop: outbox, room, parent, next alarm -----------------------------------

  /** Flushes the outbox, publishes to the room, tells a parent, and arms the next alarm (or none). */
  async settle(meta: RunMeta): Promise<void> {
    await this.flush(meta);
    this.publishToRoom();
    // What the outbox still holds (D1 or the queue refused it) is tried again by a later alarm.
    const retryAt = this.store.hasPending() ? Date.now() + this.outboxRetryDelay() : null;
    if (TERMINAL_RUN.includes(meta.status)) {
      if (retryAt === null) await this.host.storage.deleteAlarm();
      else await this.host.storage.setAlarm(retryAt);
      this.broadcast.closeAll();
      if (meta.parent) this.host.waitUntil(this.notifyParent(meta, meta.parent));
      return;
    }
    if (this.executions.size > 0) return;
    const due = meta.status === 'paused' ? null : this.nextDue(meta);
    const next = retryAt === null ? due : due === null ? retryAt : Math.min(due, retryAt);
    if (next !== null) await this.host.storage.setAlarm(next);
  }

  private outboxRetryDelay(): number {
    const failures = Number(this.store.getValue('outbox_failures') ?? 0);
    return Math.min(OUTBOX_RETRY_MAX_MS, OUTBOX_RETRY_MS * 2 ** Math.max(0, failures - 1));
  }

  /**
   * Writes the outbox: the D1 projection and the domain events. A failure leaves every entry in
   * place for the next flush (settle arms an alarm for it). Documents that the projection created
   * are linked into their nodes' outputs, announced on the run's stream, and raised as domain events.
   */
  async flush(meta: RunMeta): Promise<void> {
    try {
      const nodes = this.nodes();
      const send = (events: DomainEvent[]) => this.ports.sendEvents(events);
      const created = await flushProjection(this.ports.d1, this.store, meta, nodes, send);
      for (const [nodeId, documentId] of created) {
        const rec = nodes.get(nodeId);
        if (!rec?.output || rec.output.documentId === documentId) continue;
        rec.output.documentId = documentId;
        this.store.saveNode(rec);
        this.emit('document.created', nodeId, { document_id: documentId });
        this.raise({
          id: `document:${documentId}:generated`,
          type: 'document.generated',
          ownerId: meta.ownerId,
          at: Date.now(),
          data: { document_id: documentId, run_id: meta.runId, workflow_id: meta.workflowId, node_id: nodeId },
          effectRef: `run:${meta.runId}`,
        });
      }
      if (created.size) await flushProjection(this.ports.d1, this.store, meta, this.nodes(), send);
      if (this.store.getValue('outbox_failures') !== null) this.store.deleteValue('outbox_failures');
    } catch (err) {
      this.store.setValue('outbox_failures', String(Number(this.store.getValue('outbox_failures') ?? 0) + 1));
      log(this.ports.logLevel, 'warn', 'run outbox deferred', {
        runId: meta.runId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * Publishes stored events to the workflow's room (for WebSocket subscribers), in order, from a
   * cursor kept in storage. Each event carries a source key, so the room ignores a repeat after
   * a failure or an eviction; a failed publish is retried by the next event or the next settle.
   */
  private publishToRoom(): void {
    // A pass publishes everything stored when it starts reading, so while one is still queued a
    // burst of events needs no further pass: the queued one will see them.
    if (this.roomPublishQueued) return;
    this.roomPublishQueued = true;
    this.roomPublishing = this.roomPublishing
      .then(async () => {
        this.roomPublishQueued = false;
        const meta = this.cachedMeta ?? this.store.meta();
        if (!meta) return;
        for (;;) {
          const from = Number(this.store.getValue('room_published') ?? 0);
          const events = this.store.events(from, 200);
          if (events.length === 0) return;
          await this.ports.publish(
            meta.workflowId,
            events.map((e) => ({
              source: `run:${meta.runId}:${e.seq}`,
              payload: { run_id: meta.runId, workflow_id: meta.workflowId, ...e },
            })),
          );
          this.store.setValue('room_published', String(events.at(-1)!.seq));
        }
      })
      .catch((err: unknown) =>
        log(this.ports.logLevel, 'warn', 'room publish deferred', { error: err instanceof Error ? err.message : String(err) }),
      );
    this.host.waitUntil(this.roomPublishing);
  }

  /** The next time something falls due: a retry, a wait's end, or the run's deadline. */
  private nextDue(meta: RunMeta): number | null {
    const nodes = [...this.nodes().values()];
    const times = [
      ...nodes.filter((n) => n.status === 'retry_wait').map((n) => n.nextAttemptAt ?? Date.now()),
      ...nodes.filter((n) => n.status === 'waiting').map((n) => n.waitUntil ?? Date.now()),
      ...(meta.status === 'waiting' ? [] : [meta.deadlineAt]),
    ];
    return times.length ? Math.min(...times) : null;
  }

  private async notifyParent(meta: RunMeta, parent: { runId: number; nodeId: string }): Promise<void> {
    const nodes = this.nodes();
    await this.ports.children.notifyParent(parent, {
      runId: meta.runId,
      status: meta.status,
      output: meta.status === 'succeeded' ? runOutput(meta, nodes) : null,
      error: meta.error,
    });
  }

  templateContext(meta: RunMeta, nodes: Map<string, NodeRecord>): TemplateContext {
    return {
      input: meta.input,
      nodes: Object.fromEntries([...nodes.values()].map((n) => [n.id, { output: n.output, status: n.status, finishedAt: n.finishedAt }])),
      run: { id: meta.runId, workflow_version: meta.workflowVersion, created_at: new Date(meta.createdAt).toISOString() },
      workflow: { id: meta.workflowId, name: meta.workflowName, version: meta.workflowVersion },
    };
  }

  emit(type: string, nodeId: string | null, data: Record<string, unknown>): RunEvent {
    return this.broadcast.emit(type, nodeId, data);
  }

  // ---- cached state ------------------------------------------------------------------------

  /** The run's state was created (start): it becomes the cached state of this incarnation. */
  adopt(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
    this.cachedMeta = meta;
    this.cachedNodes = nodes;
  }

  hasRun(): boolean {
    return this.cachedMeta !== null || this.store.meta() !== null;
  }

  meta(): RunMeta {
    this.cachedMeta ??= this.store.meta();
    if (!this.cachedMeta) throw new Error('run not started');
    return this.cachedMeta;
  }

  nodes(): Map<string, NodeRecord> {
    this.cachedNodes ??= this.store.nodes();
    return this.cachedNodes;
  }

  /** Wakes the loop now (after an approval, a child's outcome, a resume). */
  wake(): Promise<void> {
    return this.host.storage.setAlarm(Date.now());
  }
}
