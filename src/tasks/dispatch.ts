import { z } from '@hono/zod-openapi';
import type { TaskPriority } from '../db/schema';

/*
 * Dispatch limits. A task holds its slot from dispatch until it ends — retry backoff included,
 * so a user whose tasks keep failing slows only themselves — except workflow_run tasks, which
 * give it back once their run has started (the run object has its own concurrency).
 */
/** Tasks in flight at once across the service: roughly what the consumers run concurrently. */
export const GLOBAL_IN_FLIGHT = 50;
/** Tasks in flight at once per user: one user's flood cannot take every slot. */
export const PER_USER_IN_FLIGHT = 5;
/** A waiting task gains one priority level per this long, so `low` is never starved. */
export const AGING_MS = 5 * 60_000;
/** Queued or retrying tasks a user may have before submissions answer 429. */
export const MAX_BACKLOG_PER_USER = 1000;

export const PRIORITY_RANK: Record<TaskPriority, number> = { low: 0, normal: 1, high: 2, critical: 3 };

export type DispatchItem = { taskId: number; ownerId: number; priority: TaskPriority; eligibleAt: number };

export type DispatcherStatus = {
  paused: boolean;
  ready: number;
  in_flight: number;
  global_cap: number;
  per_user_cap: number;
  next_up: number[];
};

/**
 * Queue message bodies, validated on the way out of the queue like any untrusted input. `run`
 * asks for an attempt of a task; `watch` checks on a workflow_run task's run. `seq` is the
 * dispatch sequence (run) or the watch step (watch); `reason` is set on dead letters we send.
 */
export const TaskMessage = z.object({
  kind: z.enum(['run', 'watch']),
  task_id: z.number().int().positive(),
  seq: z.number().int().nonnegative(),
  reason: z.string().max(2000).optional(),
});
export type TaskMessage = z.infer<typeof TaskMessage>;

export const TASKS_QUEUE_NAME = 'dwc-tasks';
export const TASKS_DLQ_NAME = 'dwc-tasks-dlq';
