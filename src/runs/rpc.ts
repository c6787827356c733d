import { objectStub } from '../lib/stubs';
import type { Budget, ChildOutcome, RunEvent, RunInit, RunSignal, RunView, SignalResult } from '../engine';

/** A run's object (durable-objects/workflow-run.ts): the single writer of one run's state. */
export interface RunRpc {
  /** Creates the run's state and schedules its first step; a second call is a no-op. */
  start(init: RunInit): Promise<RunView>;
  view(): Promise<RunView>;
  /** Whether the object holds a run (start was called and saved). */
  started(): Promise<boolean>;
  /** Stored events after sequence number `after`, at most `limit`. */
  events(after: number, limit: number): Promise<RunEvent[]>;
  /** An SSE byte stream: stored events after `after`, then live ones until the run ends. */
  stream(after: number): Promise<ReadableStream<Uint8Array>>;
  pause(): Promise<RunView>;
  /** Resumes a paused run; a budget given replaces the run's limits it names (a run paused by its budget needs a larger one). */
  resume(budget?: Budget): Promise<RunView>;
  cancel(reason?: string): Promise<RunView>;
  /** Re-runs a failed or cancelled run from where it stopped. */
  retry(): Promise<RunView>;
  /** An approval decision or a named event; why not, when it does not apply. */
  signal(signal: RunSignal): Promise<SignalResult>;
  /** A child run (of a subchain node) ended. */
  childFinished(nodeId: string, child: ChildOutcome): Promise<void>;
}

/** The object of run `runId` (`idFromName("run:<id>")`). */
export const runStub = (env: Env, runId: number) => objectStub<RunRpc>(env.WORKFLOW_RUN, `run:${runId}`);
