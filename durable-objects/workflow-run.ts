import { NodeError, TERMINAL_RUN, newNodeRecord, type NodeRecord, type RunEvent, type RunMeta } from '../src/runs/engine/types';
import { RunDriver, SUBCHAIN_POLL_MS } from '../src/runs/engine/driver';
import { launchChildRun, pollChild } from '../src/runs/launch';
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
 *
 * This file holds the public RPC methods and the approval and subchain handling; the scheduling
 * loop they share is `RunDriver` (src/runs/engine/driver.ts).
 */
const MAX_SUBCHAIN_DEPTH = 5;

export class WorkflowRun extends RunDriver {
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
    return this.events_.subscribe(after, TERMINAL_RUN.includes(this.requireMeta().status));
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
        Object.assign(rec, {
          status: 'pending',
          attempts: 0,
          error: null,
          nextAttemptAt: null,
          pendingDelayMs: 0,
          waitUntil: null,
          childRunId: null,
        });
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
  async childFinished(
    nodeId: string,
    child: { runId: number; status: string; output: Record<string, unknown> | null; error: string | null },
  ): Promise<void> {
    const rec = this.nodes().get(nodeId);
    if (rec?.status !== 'waiting' || rec.childRunId !== child.runId) return;
    this.completeSubchain(rec, child);
    await this.ctx.storage.setAlarm(Date.now());
  }

  // ---- approvals and subchains ------------------------------------------------------------

  protected async launchSubchain(meta: RunMeta, rec: NodeRecord, workflowId: number, input: Record<string, unknown>): Promise<void> {
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

  protected pollSubchain(rec: NodeRecord): void {
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

  protected completeSubchain(
    rec: NodeRecord,
    child: { runId: number; status: string; output: Record<string, unknown> | null; error: string | null },
  ): void {
    rec.attempts += 1;
    if (child.status === 'succeeded') {
      const texts = Object.values(child.output ?? {}).map((o) => (o && typeof o === 'object' && 'text' in o ? String(o.text) : ''));
      rec.output = { text: texts.filter(Boolean).join('\n\n'), data: { child_run_id: child.runId, output: child.output } };
      this.finishNode(rec, 'succeeded', null);
    } else {
      this.finishNode(rec, 'failed', `child run ${child.runId} ${child.status}: ${child.error ?? 'no error recorded'}`);
    }
  }

  protected decideApproval(rec: NodeRecord, approved: boolean, comment: string | null, actor: number | null, timedOut = false): void {
    rec.attempts = 1;
    rec.output = { text: approved ? 'approved' : 'rejected', data: { approved, comment, actor_user_id: actor, timed_out: timedOut } };
    this.emit(approved ? 'node.approved' : 'node.rejected', rec.id, { comment, actor_user_id: actor, timed_out: timedOut });
    if (approved) this.finishNode(rec, 'succeeded', null);
    else this.finishNode(rec, 'failed', timedOut ? 'approval timed out' : `approval rejected${comment ? `: ${comment}` : ''}`);
  }
}
