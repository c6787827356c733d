import { RunDriver, type RunHost } from './driver';
import { reusedRecord } from './fork';
import type { EnginePorts } from './ports';
import type { WorkflowNode } from './definition';
import { decideReview } from './review';
import { completeSubchain, decideApproval, eventProblems, receiveEvent } from './waits';
import {
  type Budget,
  type ChildOutcome,
  newNodeRecord,
  type RunEvent,
  type RunInit,
  type RunMeta,
  type MapProgress,
  type NodeRecord,
  type RunSignal,
  type SignalResult,
  type RunView,
  TERMINAL_RUN,
} from './types';

/**
 * The run engine: one run's state and its progress, hosted by the run's Durable Object
 * (durable-objects/workflow-run.ts), which is the single writer of that state. Being the only
 * writer is what makes "never execute a completed node twice" and gap-free event sequence numbers
 * simple: no other isolate can race it.
 *
 * Progress is driven by alarms. Before doing any work an alarm re-arms itself as a watchdog, and
 * every state change is written to SQLite storage before the next step starts, so if the object
 * is evicted or aborted mid-run, the next alarm finds the durable state, marks the attempts that
 * were in flight as interrupted, runs them again, and never re-runs a node that had finished.
 * What does not survive eviction: in-flight provider calls (re-run), and SSE subscribers
 * (clients reconnect with Last-Event-ID and replay from storage).
 *
 * Everything the run does outside its object goes through `ports`: model calls, the room, child
 * runs, the events queue. D1 is written only from the outbox, after the fact, so the run's own
 * storage is the truth and D1 its projection.
 */
/** Events a run keeps for wait_for_event nodes that have not started yet. */
const MAX_STORED_EVENTS = 100;

export class RunEngine {
  private readonly driver: RunDriver;

  constructor(host: RunHost, ports: EnginePorts) {
    this.driver = new RunDriver(host, ports);
  }

  /** How many records scheduling looked at, over how many passes, in this incarnation (schedule.ts): tests read it to show a step's cost. */
  schedulingCounters(): { visits: number; passes: number } {
    return { ...this.driver.state.schedule().counters };
  }

  /** What the engine reaches outside its object; tests swap a port to inject a fault. */
  get ports(): EnginePorts {
    return this.driver.ports;
  }

  /** Creates the run's state and schedules its first step. Idempotent: a second call is a no-op. */
  async start(init: RunInit): Promise<RunView> {
    const d = this.driver;
    if (!d.state.hasRun()) {
      const now = Date.now();
      const { fork, ...rest } = init;
      const meta: RunMeta = {
        ...rest,
        fork: fork ? { runId: fork.runId, fromNode: fork.fromNode } : null,
        status: 'queued',
        error: null,
        createdAt: now,
        startedAt: null,
        finishedAt: null,
        deadlineAt: now + init.settings.timeout_seconds * 1000,
      };
      d.state.store.saveMeta(meta);
      const reused = new Map((fork?.reused ?? []).map((r) => [r.id, reusedRecord(r, fork!.runId)]));
      const nodes = new Map(init.nodes.map((n) => [n.id, reused.get(n.id) ?? newNodeRecord(n.id)]));
      for (const rec of nodes.values()) d.state.store.saveNode(rec);
      d.state.adopt(meta, nodes);
      d.state.emit('run.created', null, {
        workflow_id: meta.workflowId,
        workflow_version: meta.workflowVersion,
        input: meta.input,
        ...(meta.fork ? { forked_from: { run_id: meta.fork.runId, node_id: meta.fork.fromNode } } : {}),
      });
      for (const rec of reused.values()) d.state.emit('node.reused', rec.id, { from_run_id: rec.reusedFrom, status: rec.status });
      await d.wake();
    }
    return this.view();
  }

  started(): boolean {
    return this.driver.state.hasRun();
  }

  view(): RunView {
    const { state } = this.driver;
    const meta = state.meta();
    const maps: Record<string, MapProgress> = {};
    for (const def of meta.nodes) {
      if (def.type !== 'map') continue;
      const rec = state.nodes().get(def.id);
      if (rec?.reusedFrom !== undefined) {
        const data = rec.output?.data as { count?: number; succeeded?: number; failed?: number } | undefined;
        maps[def.id] = { total: data?.count ?? 0, succeeded: data?.succeeded ?? 0, failed: data?.failed ?? 0, running: 0, pending: 0 };
        continue;
      }
      const items = state.items(def.id).map((i) => i.rec.status);
      const count = (...s: string[]) => items.filter((x) => s.includes(x)).length;
      maps[def.id] = {
        total: items.length,
        succeeded: count('succeeded'),
        failed: count('failed', 'cancelled'),
        running: count('running', 'waiting', 'retry_wait'),
        pending: count('pending'),
      };
    }
    return { meta, nodes: [...state.nodes().values()], lastSeq: state.store.lastSeq(), maps };
  }

  events(after: number, limit: number): RunEvent[] {
    return this.driver.state.store.events(after, limit);
  }

  /** An SSE byte stream: stored events after `after`, then live ones; it ends when the run does. */
  stream(after: number): ReadableStream<Uint8Array> {
    return this.driver.state.broadcast.subscribe(after, TERMINAL_RUN.includes(this.driver.state.meta().status));
  }

  async pause(): Promise<RunView> {
    const meta = this.driver.state.meta();
    if (meta.status === 'running' || meta.status === 'queued' || meta.status === 'waiting') {
      this.driver.state.setStatus(meta, 'paused', 'run.paused');
    }
    return this.view();
  }

  /** Resumes a paused run; `budget` replaces the limits it names (a run its budget paused needs a larger one). */
  async resume(budget?: Budget): Promise<RunView> {
    const meta = this.driver.state.meta();
    if (meta.status === 'paused') {
      if (budget && (budget.maxCostUsd !== undefined || budget.maxTokens !== undefined)) {
        meta.budget = { ...meta.budget, ...Object.fromEntries(Object.entries(budget).filter(([, v]) => v !== undefined)) };
        this.driver.state.emit('run.budget_changed', null, {
          max_cost_usd: meta.budget.maxCostUsd ?? null,
          max_tokens: meta.budget.maxTokens ?? null,
        });
      }
      meta.pauseReason = null;
      this.driver.state.setStatus(meta, 'running', 'run.resumed');
      await this.driver.wake();
    }
    return this.view();
  }

  async cancel(reason = 'cancelled by request'): Promise<RunView> {
    const meta = this.driver.state.meta();
    if (TERMINAL_RUN.includes(meta.status)) return this.view();
    this.driver.stopRun(meta, 'cancelled', reason);
    await this.driver.settle(meta);
    return this.view();
  }

  /** Re-runs a failed or cancelled run from where it stopped; finished nodes keep their outputs. */
  async retry(): Promise<RunView> {
    const d = this.driver;
    const meta = d.state.meta();
    if (meta.status !== 'failed' && meta.status !== 'cancelled') return this.view();
    const again = (rec: NodeRecord, status: NodeRecord['status'] = 'pending') => {
      Object.assign(rec, { status, attempts: 0, error: null, nextAttemptAt: null, pendingDelayMs: 0, waitUntil: null, childRunId: null });
      d.state.save(rec);
    };
    for (const def of meta.nodes) {
      const rec = d.state.nodes().get(def.id)!;
      if (rec.status !== 'failed' && rec.status !== 'cancelled') continue;
      const items = def.type === 'map' ? d.state.items(def.id) : [];
      if (!items.length) {
        again(rec);
        continue;
      }
      // A map goes on with its items: the ones that finished keep their outputs, the others run again.
      for (const { rec: item } of items) if (item.status === 'failed' || item.status === 'cancelled') again(item);
      rec.status = 'running';
      Object.assign(rec, { error: null, finishedAt: null });
      d.state.save(rec);
    }
    meta.error = null;
    meta.finishedAt = null;
    meta.deadlineAt = Date.now() + meta.settings.timeout_seconds * 1000;
    d.state.setStatus(meta, 'running', 'run.retried');
    await d.wake();
    return this.view();
  }

  /** External events: review decisions at approval nodes (review.ts), and named events for wait_for_event nodes. */
  async signal(signal: RunSignal): Promise<SignalResult> {
    if (signal.type === 'event') return this.event(signal.name, signal.payload);
    const meta = this.driver.state.meta();
    const rec = this.driver.state.nodes().get(signal.node_id);
    const def = meta.nodes.find((n) => n.id === signal.node_id);
    if (!rec || def?.type !== 'approval')
      return { ok: false, code: 'conflict', message: `node ${signal.node_id} is not an approval node of this run` };
    // A decision sent again with its Idempotency-Key (a client's retry) was taken already: it must not
    // apply to the next wait (after a request for changes) as a second decision.
    if (signal.key && meta.reviews?.some((r) => r.node_id === signal.node_id && r.key === signal.key)) return { ok: true, replayed: true };
    if (rec.status !== 'waiting')
      return { ok: false, code: 'conflict', message: `node ${signal.node_id} is not waiting for approval (it is ${rec.status})` };
    if (signal.decision === 'approve' || signal.decision === 'reject') {
      decideApproval(this.driver, rec, signal.decision === 'approve', signal.comment ?? null, signal.actor, false, signal.key);
    } else {
      const result = decideReview(this.driver.state, meta, rec, def, signal);
      if (!result.ok) return result;
    }
    await this.driver.wake();
    return { ok: true };
  }

  /**
   * A named event: the wait_for_event node waiting for it takes it now; if none waits yet, the run
   * keeps it (up to MAX_STORED_EVENTS) for the first such node that starts.
   */
  private async event(name: string, payload: unknown): Promise<SignalResult> {
    const { state } = this.driver;
    const meta = state.meta();
    const defs = meta.nodes.filter(
      (n): n is Extract<WorkflowNode, { type: 'wait_for_event' }> => n.type === 'wait_for_event' && n.event === name,
    );
    if (!defs.length) return { ok: false, code: 'validation_error', message: `no node of this run waits for an event named "${name}"` };
    if (TERMINAL_RUN.includes(meta.status)) return { ok: false, code: 'conflict', message: `the run has ended (${meta.status})` };
    const waiting = defs.find((d) => state.nodes().get(d.id)?.status === 'waiting');
    const problem = eventProblems(waiting ?? defs[0]!, payload);
    if (problem) return { ok: false, code: 'validation_error', message: problem };
    if (waiting) {
      receiveEvent(this.driver, state.nodes().get(waiting.id)!, payload);
      await this.driver.wake();
      return { ok: true };
    }
    if (state.store.waitingEvents() >= MAX_STORED_EVENTS)
      return { ok: false, code: 'conflict', message: `${MAX_STORED_EVENTS} events already wait for their nodes; no more are kept` };
    state.store.storeEvent(name, payload);
    state.emit('event.stored', null, { name });
    return { ok: true, stored: true };
  }

  /** Called by a child run when it ends; the parent also polls, so a lost call is not fatal. */
  async childFinished(nodeId: string, child: ChildOutcome): Promise<void> {
    const rec = this.driver.state.record(nodeId);
    if (rec?.status !== 'waiting' || rec.childRunId !== child.runId) return;
    completeSubchain(this.driver, rec, child);
    await this.driver.wake();
  }

  alarm(): Promise<void> {
    return this.driver.alarm();
  }
}
