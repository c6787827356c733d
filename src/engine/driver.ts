import { type Execution, interrupted, startAttempt } from './attempt';
import { RunBudget } from './budget';
import type { WorkflowNode } from './definition';
import { pollEffect, startEffect } from './effects';
import { advanceLoop, loopContext, startLoop } from './loop';
import { advanceMap, startMap } from './map';
import { RunOutbox } from './outbox';
import type { EnginePorts } from './ports';
import { runOutput } from './projection';
import { RunState } from './state';
import type { TemplateContext } from './template';
import { DONE_NODE, NodeError, type NodeRecord, parseItemKey, type RunMeta, TERMINAL_RUN } from './types';
import {
  decideApproval,
  eventTimedOut,
  finishWait,
  pollSubchain,
  startApproval,
  startSubchain,
  startWait,
  startWaitForEvent,
} from './waits';

/**
 * The scheduling half of a run: the alarm-driven loop, which node starts when, the run's outcome,
 * and when the outbox is flushed. RunEngine (engine.ts) holds one and adds the operations callers
 * use; see it for the guarantees. State changes go through RunState (state.ts), attempts through
 * attempt.ts, maps and loops through map.ts and loop.ts, nodes that wait for the outside world
 * through waits.ts, and what leaves the object through RunOutbox (outbox.ts).
 */
export const WATCHDOG_MS = 30_000;

/** What the driver needs of its Durable Object: storage (SQL and the alarm) and waitUntil. */
export type RunHost = Pick<DurableObjectState, 'storage' | 'waitUntil'>;

/** Nodes that are `running` without an attempt of their own: they advance with their items or body. */
const COMPOSITE: readonly WorkflowNode['type'][] = ['map', 'loop'];

export class RunDriver {
  readonly state: RunState;
  readonly outbox: RunOutbox;
  /** Attempts in flight in this incarnation, by record id (a node's, or a map item's). */
  readonly executions = new Map<string, Execution>();
  readonly budget: RunBudget;
  private driving = false;

  constructor(
    readonly host: RunHost,
    readonly ports: EnginePorts,
  ) {
    this.state = new RunState(host.storage.sql, () => this.outbox.publishToRoom());
    this.outbox = new RunOutbox(this.state, ports, host);
    this.budget = new RunBudget(this.state, ports);
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
    const schedule = this.state.schedule();
    // Attempts that were in flight when a previous incarnation died: only running records can be.
    for (const id of schedule.inOrder(schedule.statuses.keys('running'))) {
      const def = schedule.def(id);
      const rec = nodes.get(id);
      if (!def || !rec) continue;
      if (def.type === 'map') {
        const map = schedule.map(def.id);
        for (const index of [...map.statuses.keys('running')].sort((a, b) => a - b)) {
          const item = map.items[index]!.rec;
          if (!this.executions.has(item.id)) interrupted(this.state, item);
        }
      } else if (!COMPOSITE.includes(def.type) && !this.executions.has(rec.id)) interrupted(this.state, rec);
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

  /** One scheduling pass: timeouts, due retries and waits, maps and loops, skips, starts, and the run's own outcome. */
  private advance(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
    const now = Date.now();
    if (TERMINAL_RUN.includes(meta.status) || meta.status === 'paused') return;
    if (meta.status !== 'waiting' && now >= meta.deadlineAt) {
      this.stopRun(meta, 'failed', `run exceeded its ${meta.settings.timeout_seconds}s timeout`);
      return;
    }
    const schedule = this.state.schedule();
    schedule.counters.passes++;
    // What fell due (nodes, and items grouped under their map) and the running maps and loops, in definition order.
    const dueItems = new Map<string, NodeRecord[]>();
    const dueNodes: string[] = [];
    for (const rec of schedule.takeDue(now)) {
      const item = parseItemKey(rec.id);
      if (!item) dueNodes.push(rec.id);
      else {
        const list = dueItems.get(item.mapId);
        if (list) list.push(rec);
        else dueItems.set(item.mapId, [rec]);
      }
    }
    let changed = false;
    for (const id of schedule.inOrder(new Set([...dueNodes, ...schedule.composites]))) {
      const def = schedule.def(id)!;
      const rec = nodes.get(id)!;
      if (rec.status === 'retry_wait' && rec.nextAttemptAt !== null && rec.nextAttemptAt <= now) {
        rec.status = 'pending';
        this.state.save(rec);
      } else if (rec.status === 'waiting' && rec.waitUntil !== null && rec.waitUntil <= now) {
        if (def.type === 'approval') decideApproval(this, rec, def.on_timeout === 'approve', 'approval timed out', null, true);
        else if (def.type === 'subchain' && rec.childRunId !== null) pollSubchain(this, rec);
        else if (def.type === 'wait') finishWait(this, rec);
        else if (def.type === 'wait_for_event') eventTimedOut(this, rec, def);
        else if (def.type === 'notify' || def.type === 'task') pollEffect(this, meta, rec, def);
        else schedule.track(rec);
      } else if (rec.status === 'running' && def.type === 'map') {
        advanceMap(this, meta, rec, def, dueItems.get(def.id) ?? []);
      } else if (rec.status === 'running' && def.type === 'loop') {
        changed = advanceLoop(this, meta, rec, def) || changed;
      } else {
        // Due but not able to move on yet (a subchain whose child is still being launched): keep its timer.
        schedule.track(rec);
      }
    }
    const failedBefore = schedule.statuses.count('failed') > 0;
    if (!failedBefore) {
      const skip = schedule.skipsNow();
      for (const id of skip) this.state.finishNode(nodes.get(id)!, 'skipped', null);
      if (skip.length || changed) {
        this.advance(meta, nodes);
        return;
      }
      const started = schedule.startReady(
        () => this.nodeExecutions() < meta.settings.concurrency,
        (id) => this.startNode(meta, nodes.get(id)!),
      );
      // A node may be done or running without an attempt of its own as soon as it starts (a loop
      // opens its body, a wait finds its event already sent): look again at what can start now.
      if (started) {
        this.advance(meta, nodes);
        return;
      }
    }
    if (this.executions.size > 0) return;
    // Some nodes fail as they start (a map whose list is too long): look again.
    const failed = schedule.firstFailed();
    if (failed) {
      meta.error = failed.error ?? 'a node failed';
      this.state.finishRun(meta, 'failed');
    } else if (schedule.openCount() === 0) {
      this.state.finishRun(meta, 'succeeded');
    } else if (meta.status !== 'waiting' && schedule.statuses.count('waiting') > 0 && this.nothingDue()) {
      // Nothing runs and nothing is due: the run now only moves on an approval, an event, a child run or a timer.
      this.state.setStatus(meta, 'waiting', 'run.waiting');
    }
  }

  /** Node attempts in flight (map items count toward their map's own cap, not the run's). */
  private nodeExecutions(): number {
    let n = 0;
    for (const key of this.executions.keys()) if (!key.includes('[')) n++;
    return n;
  }

  /** Nothing of the open nodes is scheduled to run again by itself (a retry, or a map's items). */
  private nothingDue(): boolean {
    const schedule = this.state.schedule();
    if (schedule.statuses.count('retry_wait') > 0) return false;
    for (const id of schedule.composites) {
      if (schedule.def(id)?.type !== 'map') continue;
      if (schedule.map(id).statuses.count('pending', 'running', 'retry_wait') > 0) return false;
    }
    return true;
  }

  private startNode(meta: RunMeta, rec: NodeRecord): void {
    const def = this.state.schedule().def(rec.id)!;
    rec.startedAt ??= Date.now();
    if (meta.status === 'waiting') this.state.setStatus(meta, 'running', 'run.resumed');
    const ctx = this.contextFor(meta, def.id);
    switch (def.type) {
      case 'approval':
        startApproval(this, meta, rec, def, ctx);
        return;
      case 'subchain':
        startSubchain(this, meta, rec, def, ctx);
        return;
      case 'wait':
        startWait(this, rec, def, ctx);
        return;
      case 'wait_for_event':
        startWaitForEvent(this, rec, def);
        return;
      case 'map':
        startMap(this, meta, rec, def);
        return;
      case 'loop':
        startLoop(this, rec, def);
        return;
      case 'notify':
      case 'task':
        startEffect(this, meta, rec, def);
        return;
      default:
        startAttempt(this, meta, rec, def, ctx, (done) => {
          // A node's document reaches D1 through the outbox; each later success (a loop's next
          // iteration, a re-run a reviewer asked for) is a new version of it, as is a reviewer's edit.
          if (done.output?.title === undefined) return;
          const loop = this.state.schedule().loopOf(def.id);
          const iteration = loop ? (this.state.nodes().get(loop.id)?.loop?.iteration ?? 1) : 1;
          const version = Math.max(iteration, (done.docVersion ?? 0) + 1);
          done.docVersion = version;
          this.state.save(done);
          this.state.store.enqueue({ kind: 'document', nodeId: done.id, version, title: done.output.title, text: done.output.text });
        });
    }
  }

  /** What a node's templates read: a body node of a loop also sees the loop's iteration and previous outputs. */
  contextFor(meta: RunMeta, nodeId: string): TemplateContext {
    const ctx = this.state.templateContext(meta);
    const loop = this.state.schedule().loopOf(nodeId);
    const rec = loop && this.state.nodes().get(loop.id);
    return rec?.loop ? { ...ctx, loop: loopContext(rec.loop) } : ctx;
  }

  /** Ends the run now: nodes and items not yet done are cancelled, attempts in flight are aborted. */
  stopRun(meta: RunMeta, status: 'failed' | 'cancelled', reason: string): void {
    const stop = (rec: NodeRecord) => {
      if (rec.status === 'waiting' && rec.childRunId !== null) {
        // A child run of a stopped parent would only be wasted work: stop it too.
        this.host.waitUntil(this.ports.children.cancel(rec.childRunId, `parent run ${meta.runId} stopped: ${reason}`));
      }
      if (!DONE_NODE.includes(rec.status) && !this.executions.has(rec.id)) this.state.finishNode(rec, 'cancelled', reason);
    };
    for (const def of meta.nodes) {
      if (def.type === 'map') for (const { rec } of this.state.items(def.id)) stop(rec);
      stop(this.state.nodes().get(def.id)!);
    }
    meta.error = reason;
    this.state.finishRun(meta, status);
    for (const exec of this.executions.values()) exec.controller.abort(new NodeError(reason, false));
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

  /** The next time something falls due: a retry, a wait's end (a map item's too), or the run's deadline. */
  private nextDue(meta: RunMeta): number | null {
    const due = this.state.schedule().nextDue();
    if (meta.status === 'waiting') return due;
    return due === null ? meta.deadlineAt : Math.min(due, meta.deadlineAt);
  }

  private async notifyParent(meta: RunMeta, parent: { runId: number; nodeId: string }): Promise<void> {
    await this.ports.children.notifyParent(parent, {
      runId: meta.runId,
      status: meta.status,
      output: meta.status === 'succeeded' ? runOutput(meta, this.state.nodes()) : null,
      error: meta.error,
    });
  }

  /** Wakes the loop now (after an approval, an event, a child's outcome, a resume). */
  wake(): Promise<void> {
    return this.host.storage.setAlarm(Date.now());
  }
}
