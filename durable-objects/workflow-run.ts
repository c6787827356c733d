import { DurableObject } from 'cloudflare:workers';
import { log } from '../src/lib/log';
import { DEFAULT_RETRY, retryDelay } from '../src/runs/engine/backoff';
import { executionDeps } from '../src/runs/engine/deps';
import { executeNode } from '../src/runs/engine/executors';
import { nextStep } from '../src/runs/engine/graph';
import { flushProjection, runOutput } from '../src/runs/engine/projection';
import { RunStore, type AttemptRow } from '../src/runs/engine/store';
import { render, type TemplateContext } from '../src/runs/engine/template';
import { DONE_NODE, NodeError, TERMINAL_RUN, newNodeRecord, type NodeRecord, type RunEvent, type RunMeta } from '../src/runs/engine/types';
import { launchChildRun, pollChild, runStub } from '../src/runs/launch';
import type { RunInit, RunSignal, RunView } from '../src/runs/protocol';

/**
 * WorkflowRun — one object per run (`idFromName("run:<id>")`), the single writer of that run's
 * state: node records, attempts, the event log and the run's D1 projection. Being the only
 * writer is what makes "never execute a completed node twice" and gap-free event sequence
 * numbers simple: no other isolate can race it.
 *
 * Progress is driven by alarms. Before doing any work an alarm re-arms itself as a watchdog, and
 * every state change is written to SQLite storage before the next step starts, so if the object
 * is evicted or aborted mid-run, the next alarm finds the durable state, marks the attempts that
 * were in flight as interrupted, runs them again, and never re-runs a node that had finished.
 * What does not survive eviction: in-flight provider calls (re-run), and SSE subscribers
 * (clients reconnect with Last-Event-ID and replay from storage).
 */
const WATCHDOG_MS = 30_000;
const SUBCHAIN_POLL_MS = 30_000;
const DEFAULT_NODE_TIMEOUT_S = 300;
const TOKEN_FLUSH_CHARS = 80;
const MAX_SUBCHAIN_DEPTH = 5;
const encoder = new TextEncoder();

type Execution = { controller: AbortController; promise: Promise<void> };

export class WorkflowRun extends DurableObject<Env> {
  private readonly store: RunStore;
  private readonly executions = new Map<string, Execution>();
  private readonly subscribers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private readonly tokenBuffers = new Map<string, string>();
  private driving = false;
  // Write-through caches of the stored state. One incarnation has exactly one meta object and one
  // record per node, so the driver loop, RPCs (cancel, pause) and completions all see each
  // other's changes; every change is also saved to storage at once.
  private cachedMeta: RunMeta | null = null;
  private cachedNodes: Map<string, NodeRecord> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new RunStore(ctx.storage.sql);
  }

  // ---- RPC -------------------------------------------------------------------------------

  /** Creates the run's state and schedules its first step. Idempotent: a second call is a no-op. */
  async start(init: RunInit): Promise<RunView> {
    if (!this.cachedMeta && !this.store.meta()) {
      const now = Date.now();
      const meta: RunMeta = {
        ...init,
        status: 'queued',
        error: null,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        deadlineAt: now + init.settings.timeout_seconds * 1000,
      };
      this.store.saveMeta(meta);
      this.cachedMeta = meta;
      this.cachedNodes = new Map(init.nodes.map((n) => [n.id, newNodeRecord(n.id)]));
      for (const rec of this.cachedNodes.values()) this.store.saveNode(rec);
      this.emit('run.created', null, { workflow_id: meta.workflowId, workflow_version: meta.workflowVersion, input: meta.input });
      await this.ctx.storage.setAlarm(now);
    }
    return this.view();
  }

  view(): RunView {
    const meta = this.requireMeta();
    return { meta, nodes: [...this.nodes().values()], lastSeq: this.store.lastSeq() };
  }

  events(after: number, limit: number): RunEvent[] {
    return this.store.events(after, limit);
  }

  /** An SSE byte stream: stored events after `after`, then live ones; it ends when the run does. */
  stream(after: number): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    let last = after;
    for (;;) {
      const backlog = this.store.events(last, 500);
      for (const e of backlog) void writer.write(encoder.encode(sseFrame(e))).catch(() => this.subscribers.delete(writer));
      if (backlog.length < 500) break;
      last = backlog.at(-1)!.seq;
    }
    if (TERMINAL_RUN.includes(this.requireMeta().status)) void writer.close().catch(() => undefined);
    else this.subscribers.add(writer);
    return readable;
  }

  async pause(): Promise<RunView> {
    const meta = this.requireMeta();
    if (meta.status === 'running' || meta.status === 'queued' || meta.status === 'waiting') {
      this.setStatus(meta, 'paused', 'run.paused');
    }
    return this.view();
  }

  async resume(): Promise<RunView> {
    const meta = this.requireMeta();
    if (meta.status === 'paused') {
      this.setStatus(meta, 'running', 'run.resumed');
      await this.ctx.storage.setAlarm(Date.now());
    }
    return this.view();
  }

  async cancel(reason = 'cancelled by request'): Promise<RunView> {
    const meta = this.requireMeta();
    if (TERMINAL_RUN.includes(meta.status)) return this.view();
    this.stopRun(meta, 'cancelled', reason);
    await this.settle(meta);
    return this.view();
  }

  /** Re-runs a failed or cancelled run from where it stopped; finished nodes keep their outputs. */
  async retry(): Promise<RunView> {
    const meta = this.requireMeta();
    if (meta.status !== 'failed' && meta.status !== 'cancelled') return this.view();
    for (const rec of this.nodes().values()) {
      if (rec.status === 'failed' || rec.status === 'cancelled') {
        Object.assign(rec, { status: 'pending', attempts: 0, error: null, nextAttemptAt: null, pendingDelayMs: 0, waitUntil: null, childRunId: null });
        this.store.saveNode(rec);
      }
    }
    meta.error = null;
    meta.finishedAt = null;
    meta.deadlineAt = Date.now() + meta.settings.timeout_seconds * 1000;
    this.setStatus(meta, 'running', 'run.retried');
    await this.ctx.storage.setAlarm(Date.now());
    return this.view();
  }

  /** External events: approval decisions. Returns an error message when the event does not apply. */
  async signal(signal: RunSignal): Promise<{ ok: true } | { ok: false; message: string }> {
    const meta = this.requireMeta();
    const rec = this.nodes().get(signal.node_id);
    const def = meta.nodes.find((n) => n.id === signal.node_id);
    if (!rec || def?.type !== 'approval') return { ok: false, message: `node ${signal.node_id} is not an approval node of this run` };
    if (rec.status !== 'waiting') return { ok: false, message: `node ${signal.node_id} is not waiting for approval (it is ${rec.status})` };
    this.decideApproval(rec, signal.approved, signal.comment ?? null, signal.actor);
    await this.ctx.storage.setAlarm(Date.now());
    return { ok: true };
  }

  /** Called by a child run when it ends; the parent also polls, so a lost call is not fatal. */
  async childFinished(nodeId: string, child: { runId: number; status: string; output: Record<string, unknown> | null; error: string | null }): Promise<void> {
    const rec = this.nodes().get(nodeId);
    if (!rec || rec.status !== 'waiting' || rec.childRunId !== child.runId) return;
    this.completeSubchain(rec, child);
    await this.ctx.storage.setAlarm(Date.now());
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

  private async drive(): Promise<void> {
    const meta = this.requireMeta();
    const nodes = this.nodes();
    for (const rec of nodes.values()) {
      if (rec.status === 'running' && !this.executions.has(rec.id)) {
        // In flight when a previous incarnation died: its result was never recorded. Run it again.
        this.recordAttempt(rec, rec.startedAttempts, 'interrupted', rec.lastAttemptStartedAt ?? Date.now(), { error: 'the run object restarted during this attempt' });
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
      await Promise.race([...this.executions.values()].map((e) => e.promise));
      await this.flush(meta);
    }
    await this.settle(meta);
  }

  /** One scheduling pass: timeouts, due retries, skips, starts, and the run's own outcome. */
  private advance(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
    const now = Date.now();
    if (TERMINAL_RUN.includes(meta.status) || meta.status === 'paused') return;
    if (now >= meta.deadlineAt) return this.stopRun(meta, 'failed', `run exceeded its ${meta.settings.timeout_seconds}s timeout`);
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
      if (step.skip.length) return this.advance(meta, nodes);
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
    const deps = executionDeps(this.env, controller.signal, (text) => this.bufferToken(rec.id, text), meta.settings.fallback_providers);
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    const promise = Promise.race([executeNode(def, meta.settings, ctx, deps), aborted])
      .then(
        (result) => {
          this.flushTokens(rec.id);
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
          this.recordAttempt(rec, attemptNo, 'succeeded', now, { delayMs, provider: result.provider, model: result.model, tokensIn: result.tokensIn, tokensOut: result.tokensOut });
          this.finishNode(rec, 'succeeded', null);
          if (result.output.title !== undefined) this.store.enqueue({ kind: 'document', nodeId: rec.id });
        },
        (err: unknown) => {
          this.flushTokens(rec.id);
          if (TERMINAL_RUN.includes(meta.status)) return this.afterCancelled(rec, attemptNo, now, delayMs);
          const error = err instanceof Error ? err.message : String(err);
          const retryable = err instanceof NodeError ? err.retryable : false;
          if (!(err instanceof NodeError)) log(this.env.LOG_LEVEL, 'error', 'node crashed', { runId: meta.runId, node: rec.id, error });
          rec.attempts = attempt;
          this.recordAttempt(rec, attemptNo, 'failed', now, { delayMs, error, retryable, provider: err instanceof NodeError ? err.provider : undefined });
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
  private stopRun(meta: RunMeta, status: 'failed' | 'cancelled', reason: string): void {
    for (const rec of this.nodes().values()) {
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

  private async launchSubchain(meta: RunMeta, rec: NodeRecord, workflowId: number, input: Record<string, unknown>): Promise<void> {
    try {
      if (meta.depth + 1 > MAX_SUBCHAIN_DEPTH) throw new NodeError(`subchains nest deeper than ${MAX_SUBCHAIN_DEPTH} levels`, false);
      const childRunId = await launchChildRun(this.env, meta, rec.id, rec.attempts + 1, workflowId, input);
      rec.childRunId = childRunId;
      this.store.saveNode(rec);
      this.emit('node.waiting', rec.id, { reason: 'subchain', child_run_id: childRunId });
    } catch (err) {
      rec.attempts += 1;
      this.finishNode(rec, 'failed', err instanceof Error ? err.message : String(err));
    }
    await this.ctx.storage.setAlarm(Date.now());
  }

  private pollSubchain(rec: NodeRecord): void {
    rec.waitUntil = Date.now() + SUBCHAIN_POLL_MS;
    this.store.saveNode(rec);
    const childRunId = rec.childRunId!;
    this.ctx.waitUntil(
      pollChild(this.env, childRunId).then(async (child) => {
        const current = this.nodes().get(rec.id);
        if (child && current?.status === 'waiting' && current.childRunId === childRunId) {
          this.completeSubchain(current, child);
          await this.ctx.storage.setAlarm(Date.now());
        }
      }),
    );
  }

  private completeSubchain(rec: NodeRecord, child: { runId: number; status: string; output: Record<string, unknown> | null; error: string | null }): void {
    rec.attempts += 1;
    if (child.status === 'succeeded') {
      const texts = Object.values(child.output ?? {}).map((o) => (o && typeof o === 'object' && 'text' in o ? String(o.text) : ''));
      rec.output = { text: texts.filter(Boolean).join('\n\n'), data: { child_run_id: child.runId, output: child.output } };
      this.finishNode(rec, 'succeeded', null);
    } else {
      this.finishNode(rec, 'failed', `child run ${child.runId} ${child.status}: ${child.error ?? 'no error recorded'}`);
    }
  }

  private decideApproval(rec: NodeRecord, approved: boolean, comment: string | null, actor: number | null, timedOut = false): void {
    rec.attempts = 1;
    rec.output = { text: approved ? 'approved' : 'rejected', data: { approved, comment, actor_user_id: actor, timed_out: timedOut } };
    this.emit(approved ? 'node.approved' : 'node.rejected', rec.id, { comment, actor_user_id: actor, timed_out: timedOut });
    if (approved) this.finishNode(rec, 'succeeded', null);
    else this.finishNode(rec, 'failed', timedOut ? 'approval timed out' : `approval rejected${comment ? `: ${comment}` : ''}`);
  }

  // ---- state helpers ---------------------------------------------------------------------

  private finishNode(rec: NodeRecord, status: 'succeeded' | 'failed' | 'skipped' | 'cancelled', error: string | null, extra: Record<string, unknown> = {}): void {
    Object.assign(rec, { status, error, finishedAt: Date.now(), nextAttemptAt: null, waitUntil: null });
    this.store.saveNode(rec);
    const data: Record<string, unknown> = { ...extra, attempts: rec.attempts };
    if (status === 'succeeded' && rec.output) {
      Object.assign(data, { title: rec.output.title ?? null, preview: rec.output.text.slice(0, 280), provider: rec.provider, model: rec.model, tokens_in: rec.tokensIn, tokens_out: rec.tokensOut });
    }
    if (error) data.error = error;
    this.emit(`node.${status}`, rec.id, data);
  }

  private recordAttempt(
    rec: NodeRecord,
    attemptNo: number,
    status: AttemptRow['status'],
    startedAt: number,
    x: { delayMs?: number; error?: string; retryable?: boolean; provider?: string | undefined; model?: string | undefined; tokensIn?: number; tokensOut?: number },
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

  private setStatus(meta: RunMeta, status: RunMeta['status'], event: string): void {
    meta.status = status;
    this.store.saveMeta(meta);
    this.emit(event, null, { status });
  }

  private finishRun(meta: RunMeta, status: 'succeeded' | 'failed' | 'cancelled'): void {
    if (TERMINAL_RUN.includes(meta.status)) return;
    meta.finishedAt = Date.now();
    this.setStatus(meta, status, `run.${status}`);
  }

  /** After the loop: project to D1, notify a parent run, and arm the next alarm (or none). */
  private async settle(meta: RunMeta): Promise<void> {
    await this.flush(meta);
    if (TERMINAL_RUN.includes(meta.status)) {
      await this.ctx.storage.deleteAlarm();
      for (const w of this.subscribers) void w.close().catch(() => undefined);
      this.subscribers.clear();
      if (meta.parent) this.ctx.waitUntil(this.notifyParent(meta));
      return;
    }
    const nodes = [...this.nodes().values()];
    const times = [
      ...nodes.filter((n) => n.status === 'retry_wait').map((n) => n.nextAttemptAt ?? Date.now()),
      ...nodes.filter((n) => n.status === 'waiting').map((n) => n.waitUntil ?? Date.now()),
      meta.deadlineAt,
    ];
    if (meta.status === 'paused' || this.executions.size > 0) return;
    await this.ctx.storage.setAlarm(Math.min(...times));
  }

  private async flush(meta: RunMeta): Promise<void> {
    try {
      const nodes = this.nodes();
      const created = await flushProjection(this.env.DB, this.store, meta, nodes);
      for (const [nodeId, documentId] of created) {
        const rec = nodes.get(nodeId);
        if (!rec?.output || rec.output.documentId === documentId) continue;
        rec.output.documentId = documentId;
        this.store.saveNode(rec);
        this.emit('document.created', nodeId, { document_id: documentId });
      }
      if (created.size) await flushProjection(this.env.DB, this.store, meta, this.nodes());
    } catch (err) {
      // D1 unavailable: the outbox keeps every entry, and the next flush writes them.
      log(this.env.LOG_LEVEL, 'warn', 'run projection deferred', { runId: meta.runId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private async notifyParent(meta: RunMeta): Promise<void> {
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

  private templateContext(meta: RunMeta, nodes: Map<string, NodeRecord>): TemplateContext {
    return {
      input: meta.input,
      nodes: Object.fromEntries([...nodes.values()].map((n) => [n.id, { output: n.output, status: n.status, finishedAt: n.finishedAt }])),
      run: { id: meta.runId, workflow_version: meta.workflowVersion, created_at: new Date(meta.createdAt).toISOString() },
      workflow: { id: meta.workflowId, name: meta.workflowName, version: meta.workflowVersion },
    };
  }

  private emit(type: string, nodeId: string | null, data: Record<string, unknown>): void {
    const event = this.store.appendEvent(type, nodeId, data);
    const frame = encoder.encode(sseFrame(event));
    for (const w of this.subscribers) void w.write(frame).catch(() => this.subscribers.delete(w));
  }

  private bufferToken(nodeId: string, text: string): void {
    const buffered = (this.tokenBuffers.get(nodeId) ?? '') + text;
    if (buffered.length >= TOKEN_FLUSH_CHARS) {
      this.tokenBuffers.delete(nodeId);
      this.emit('node.token', nodeId, { text: buffered });
    } else this.tokenBuffers.set(nodeId, buffered);
  }

  private flushTokens(nodeId: string): void {
    const buffered = this.tokenBuffers.get(nodeId);
    this.tokenBuffers.delete(nodeId);
    if (buffered) this.emit('node.token', nodeId, { text: buffered });
  }

  private requireMeta(): RunMeta {
    this.cachedMeta ??= this.store.meta();
    if (!this.cachedMeta) throw new Error('run not started');
    return this.cachedMeta;
  }

  private nodes(): Map<string, NodeRecord> {
    this.cachedNodes ??= this.store.nodes();
    return this.cachedNodes;
  }
}

function sseFrame(e: RunEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}
