import { DurableObject } from 'cloudflare:workers';
import { log } from '../../lib/log';
import { DEFAULT_RETRY, retryDelay } from './backoff';
import { RunBroadcast } from './broadcast';
import { executionDeps } from './deps';
import { executeNode } from './executors';
import { nextStep } from './graph';
import { flushProjection, runOutput } from './projection';
import { RunStore, type AttemptRow } from './store';
import { render, type TemplateContext } from './template';
import { DONE_NODE, NodeError, TERMINAL_RUN, type NodeRecord, type RunMeta } from './types';
import { runStub } from '../launch';
import { emitDocumentGenerated, emitRunFinished } from '../../automations/events';
import { workflowRoom } from '../../realtime/protocol';
import { roomStub } from '../../realtime/rpc';

/**
 * The scheduling half of the WorkflowRun Durable Object (durable-objects/workflow-run.ts): the
 * alarm-driven loop, node attempts with timeouts and retries, the run's outcome, and the D1
 * projection. The object's file holds its public RPC methods and the approval and subchain
 * handling; this class holds what they share. See that file's header for the guarantees.
 */
export const WATCHDOG_MS = 30_000;
export const SUBCHAIN_POLL_MS = 30_000;
const DEFAULT_NODE_TIMEOUT_S = 300;

type Execution = { controller: AbortController; promise: Promise<void> };

export abstract class RunDriver extends DurableObject<Env> {
  protected readonly store: RunStore;
  protected readonly executions = new Map<string, Execution>();
  protected readonly events_: RunBroadcast;
  protected driving = false;
  protected roomPublishing: Promise<void> = Promise.resolve();
  private roomPublishQueued = false;
  // Write-through caches of the stored state. One incarnation has exactly one meta object and one
  // record per node, so the driver loop, RPCs (cancel, pause) and completions all see each
  // other's changes; every change is also saved to storage at once.
  protected cachedMeta: RunMeta | null = null;
  protected cachedNodes: Map<string, NodeRecord> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new RunStore(ctx.storage.sql);
    this.events_ = new RunBroadcast(this.store, () => this.publishToRoom());
  }

  // ---- the driver ------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    if (!this.cachedMeta && !this.store.meta()) return;
    if (this.driving) {
      // The loop of this incarnation is alive and will schedule what comes next.
      await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
      return;
    }
    this.driving = true;
    try {
      await this.drive();
    } finally {
      this.driving = false;
    }
  }

  protected async drive(): Promise<void> {
    const meta = this.requireMeta();
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
    await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);

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
  protected advance(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
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
        if (def.type === 'approval') this.decideApproval(rec, def.on_timeout === 'approve', 'approval timed out', null, true);
        else if (def.type === 'subchain' && rec.childRunId !== null) this.pollSubchain(rec);
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

  protected startNode(meta: RunMeta, nodes: Map<string, NodeRecord>, rec: NodeRecord): void {
    const def = meta.nodes.find((d) => d.id === rec.id)!;
    const now = Date.now();
    rec.startedAt ??= now;
    if (meta.status === 'waiting') this.setStatus(meta, 'running', 'run.resumed');
    if (def.type === 'approval') {
      rec.status = 'waiting';
      rec.waitUntil = now + def.approval_timeout_seconds * 1000;
      this.store.saveNode(rec);
      const message = def.message ? render(def.message, this.templateContext(meta, nodes)) : null;
      this.emit('node.waiting', rec.id, { reason: 'approval', message, until: new Date(rec.waitUntil).toISOString() });
      return;
    }
    if (def.type === 'subchain') {
      rec.status = 'waiting';
      rec.waitUntil = now + SUBCHAIN_POLL_MS;
      this.store.saveNode(rec);
      const input = Object.fromEntries(Object.entries(def.input).map(([k, v]) => [k, render(v, this.templateContext(meta, nodes))]));
      this.ctx.waitUntil(this.launchSubchain(meta, rec, def.workflow_id, input));
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
    const deps = executionDeps(this.env, controller.signal, (text) => this.events_.token(rec.id, text), meta.settings.fallback_providers);
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    const promise = Promise.race([executeNode(def, meta.settings, ctx, deps), aborted])
      .then(
        (result) => {
          this.events_.flushTokens(rec.id);
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
          this.events_.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          const error = err instanceof Error ? err.message : String(err);
          const retryable = err instanceof NodeError ? err.retryable : false;
          if (!(err instanceof NodeError)) log(this.env.LOG_LEVEL, 'error', 'node crashed', { runId: meta.runId, node: rec.id, error });
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
  protected stopRun(meta: RunMeta, status: 'failed' | 'cancelled', reason: string): void {
    for (const rec of this.nodes().values()) {
      if (rec.status === 'waiting' && rec.childRunId !== null) {
        // A child run of a stopped parent would only be wasted work: stop it too.
        this.ctx.waitUntil(runStub(this.env, rec.childRunId).cancel(`parent run ${meta.runId} stopped: ${reason}`));
      }
      if (!DONE_NODE.includes(rec.status) && !this.executions.has(rec.id)) this.finishNode(rec, 'cancelled', reason);
    }
    meta.error = reason;
    this.finishRun(meta, status);
    for (const exec of this.executions.values()) exec.controller.abort(new NodeError(reason, false));
  }

  protected afterCancelled(rec: NodeRecord, attemptNo: number, startedAt: number, delayMs: number): void {
    this.recordAttempt(rec, attemptNo, 'cancelled', startedAt, { delayMs, error: 'run stopped during this attempt' });
    if (!DONE_NODE.includes(rec.status)) this.finishNode(rec, 'cancelled', 'run cancelled');
  }

  // ---- state helpers ---------------------------------------------------------------------

  protected finishNode(
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

  protected recordAttempt(
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

  protected setStatus(meta: RunMeta, status: RunMeta['status'], event: string): void {
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

  protected finishRun(meta: RunMeta, status: 'succeeded' | 'failed' | 'cancelled'): void {
    if (TERMINAL_RUN.includes(meta.status)) return;
    meta.finishedAt = Date.now();
    this.setStatus(meta, status, `run.${status}`);
  }

  /** After the loop: project to D1, notify a parent run, and arm the next alarm (or none). */
  protected async settle(meta: RunMeta): Promise<void> {
    await this.flush(meta);
    this.publishToRoom();
    if (TERMINAL_RUN.includes(meta.status)) {
      await this.ctx.storage.deleteAlarm();
      this.events_.closeAll();
      if (meta.parent) this.ctx.waitUntil(this.notifyParent(meta));
      this.ctx.waitUntil(emitRunFinished(this.env, meta));
      return;
    }
    const next = this.nextDue(meta);
    if (meta.status === 'paused' || this.executions.size > 0 || next === null) return;
    await this.ctx.storage.setAlarm(next);
  }

  /**
   * Publishes stored events to the workflow's room (for WebSocket subscribers), in order, from a
   * cursor kept in storage. Each event carries a source key, so the room ignores a repeat after
   * a failure or an eviction; a failed publish is retried by the next event or the next settle.
   */
  protected publishToRoom(): void {
    // A pass publishes everything stored when it starts reading, so while one is still queued a
    // burst of events needs no further pass: the queued one will see them.
    if (this.roomPublishQueued) return;
    this.roomPublishQueued = true;
    this.roomPublishing = this.roomPublishing
      .then(async () => {
        this.roomPublishQueued = false;
        const meta = this.cachedMeta ?? this.store.meta();
        if (!meta) return;
        const room = workflowRoom(meta.workflowId);
        for (;;) {
          const from = Number(this.store.getValue('room_published') ?? 0);
          const events = this.store.events(from, 200);
          if (events.length === 0) return;
          await roomStub(this.env, room).publish(
            room,
            events.map((e) => ({
              source: `run:${meta.runId}:${e.seq}`,
              payload: { run_id: meta.runId, workflow_id: meta.workflowId, ...e },
            })),
          );
          this.store.setValue('room_published', String(events.at(-1)!.seq));
        }
      })
      .catch((err: unknown) =>
        log(this.env.LOG_LEVEL, 'warn', 'room publish deferred', { error: err instanceof Error ? err.message : String(err) }),
      );
    this.ctx.waitUntil(this.roomPublishing);
  }

  /** The next time something falls due: a retry, a wait's end, or the run's deadline. */
  protected nextDue(meta: RunMeta): number | null {
    const nodes = [...this.nodes().values()];
    const times = [
      ...nodes.filter((n) => n.status === 'retry_wait').map((n) => n.nextAttemptAt ?? Date.now()),
      ...nodes.filter((n) => n.status === 'waiting').map((n) => n.waitUntil ?? Date.now()),
      ...(meta.status === 'waiting' ? [] : [meta.deadlineAt]),
    ];
    return times.length ? Math.min(...times) : null;
  }

  protected async flush(meta: RunMeta): Promise<void> {
    try {
      const nodes = this.nodes();
      const created = await flushProjection(this.env.DB, this.store, meta, nodes);
      for (const [nodeId, documentId] of created) {
        const rec = nodes.get(nodeId);
        if (!rec?.output || rec.output.documentId === documentId) continue;
        rec.output.documentId = documentId;
        this.store.saveNode(rec);
        this.emit('document.created', nodeId, { document_id: documentId });
        this.ctx.waitUntil(emitDocumentGenerated(this.env, meta, nodeId, documentId));
      }
      if (created.size) await flushProjection(this.env.DB, this.store, meta, this.nodes());
    } catch (err) {
      // D1 unavailable: the outbox keeps every entry, and the next flush writes them.
      log(this.env.LOG_LEVEL, 'warn', 'run projection deferred', {
        runId: meta.runId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  protected async notifyParent(meta: RunMeta): Promise<void> {
    const parent = meta.parent!;
    const stub = runStub(this.env, parent.runId);
    const nodes = this.nodes();
    await stub.childFinished(parent.nodeId, {
      runId: meta.runId,
      status: meta.status,
      output: meta.status === 'succeeded' ? runOutput(meta, nodes) : null,
      error: meta.error,
    });
  }

  protected templateContext(meta: RunMeta, nodes: Map<string, NodeRecord>): TemplateContext {
    return {
      input: meta.input,
      nodes: Object.fromEntries([...nodes.values()].map((n) => [n.id, { output: n.output, status: n.status, finishedAt: n.finishedAt }])),
      run: { id: meta.runId, workflow_version: meta.workflowVersion, created_at: new Date(meta.createdAt).toISOString() },
      workflow: { id: meta.workflowId, name: meta.workflowName, version: meta.workflowVersion },
    };
  }

  protected emit(type: string, nodeId: string | null, data: Record<string, unknown>): void {
    this.events_.emit(type, nodeId, data);
  }

  protected requireMeta(): RunMeta {
    this.cachedMeta ??= this.store.meta();
    if (!this.cachedMeta) throw new Error('run not started');
    return this.cachedMeta;
  }

  protected nodes(): Map<string, NodeRecord> {
    this.cachedNodes ??= this.store.nodes();
    return this.cachedNodes;
  }

  /** Approval and subchain nodes are driven by the object's own RPCs; see workflow-run.ts. */
  protected abstract launchSubchain(meta: RunMeta, rec: NodeRecord, workflowId: number, input: Record<string, unknown>): Promise<void>;
  protected abstract pollSubchain(rec: NodeRecord): void;
  protected abstract decideApproval(
    rec: NodeRecord,
    approved: boolean,
    comment: string | null,
    actor: number | null,
    timedOut?: boolean,
  ): void;
}
