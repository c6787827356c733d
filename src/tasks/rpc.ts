import { objectStub } from '../lib/stubs';
import type { DispatcherStatus, DispatchItem } from './dispatch';

/** The task dispatcher (durable-objects/task-dispatcher.ts): which task starts next, and when. */
export interface DispatcherRpc {
  /** Tasks that may run once eligible; tasks it already knows are ignored. */
  enqueue(items: DispatchItem[]): Promise<void>;
  /** Tasks that ended (or no longer need their slot): their slots go to the next ones. */
  release(taskIds: number[]): Promise<void>;
  /** Tasks whose queue message may have been lost: sent again (the cron reconcile). */
  redispatch(items: DispatchItem[]): Promise<void>;
  inFlight(): { taskId: number; dispatchedAt: number }[];
  pause(): Promise<DispatcherStatus>;
  resume(): Promise<DispatcherStatus>;
  status(limit?: number): DispatcherStatus;
}

/** The service's one dispatcher; `name` is only for tests that need a private instance. */
export const dispatcher = (env: Env, name = 'global') => objectStub<DispatcherRpc>(env.TASK_DISPATCHER, name);
