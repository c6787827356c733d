import { DurableObject } from 'cloudflare:workers';
import {
  type Budget,
  type ChildOutcome,
  type RunEvent,
  RunEngine,
  type RunInit,
  type RunSignal,
  type RunView,
  type SignalResult,
} from '../src/engine';
import { runPorts } from '../src/runs/ports';
import type { RunRpc } from '../src/runs/rpc';

/**
 * WorkflowRun — one object per run (`idFromName("run:<id>")`), the single writer of that run's
 * state: node records, attempts, the event log, and the outbox of its D1 projection and domain
 * events. It holds a RunEngine (src/engine/engine.ts, where the guarantees are spelled out)
 * and gives it this object's storage, alarm and waitUntil, plus the ports that reach the rest of
 * the system (src/runs/ports.ts). Everything survives eviction in SQLite storage except attempts
 * in flight (re-run by the next alarm) and live SSE subscribers (they resume with Last-Event-ID).
 */
export class WorkflowRun extends DurableObject<Env> implements RunRpc {
  private readonly engine: RunEngine;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new RunEngine(ctx, runPorts(env));
  }

  start(init: RunInit): Promise<RunView> {
    return this.engine.start(init);
  }

  async view(): Promise<RunView> {
    return this.engine.view();
  }

  async started(): Promise<boolean> {
    return this.engine.started();
  }

  async events(after: number, limit: number): Promise<RunEvent[]> {
    return this.engine.events(after, limit);
  }

  async stream(after: number): Promise<ReadableStream<Uint8Array>> {
    return this.engine.stream(after);
  }

  pause(): Promise<RunView> {
    return this.engine.pause();
  }

  resume(budget?: Budget): Promise<RunView> {
    return this.engine.resume(budget);
  }

  cancel(reason?: string): Promise<RunView> {
    return this.engine.cancel(reason);
  }

  retry(): Promise<RunView> {
    return this.engine.retry();
  }

  signal(signal: RunSignal): Promise<SignalResult> {
    return this.engine.signal(signal);
  }

  childFinished(nodeId: string, child: ChildOutcome): Promise<void> {
    return this.engine.childFinished(nodeId, child);
  }

  override alarm(): Promise<void> {
    return this.engine.alarm();
  }

  /**
   * Deletes everything this object stores, alarm included, once its run row is gone (the retention
   * cron, src/security/retention.ts, is told by a D1 trigger). An object whose storage is empty
   * costs nothing; one left behind would keep the run's events, input and outputs forever.
   */
  async purge(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }
}
