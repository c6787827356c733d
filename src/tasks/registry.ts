import type { z } from 'zod';
import type { DB, Stmt } from '../db/client';
import type { tasks, TaskType } from '../db/schema';

export type TaskRow = typeof tasks.$inferSelect;

/*
 * The task runner knows task types only through this registry. Each feature that owns a task type
 * exports its handler from its task-handler.ts (runs: workflow_run; notifications:
 * notification_delivery; ml: ml_train; automations: automation_run and automation_fire; the
 * runner's own webhook_call, data_processing and cleanup); src/app.ts lists them all (its task
 * routes describe each type's payload with their schemas) and src/worker.ts installs them, with
 * the end-of-task hooks, when the Worker's module loads — before any request, queue message
 * or alarm is handled. It is wiring, the same in every isolate, not state.
 */

/**
 * A failure with its verdict: retryable ones are retried with backoff, the others end the task.
 * `retryAfterMs` is the wait the called service asked for; the next attempt comes no sooner.
 */
export class TaskError extends Error {
  override name = 'TaskError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type AttemptContext = {
  env: Env;
  db: DB;
  task: TaskRow;
  now: number;
  /** When the task's time budget (timeout_seconds from its first start) runs out. */
  deadline: number;
};

/**
 * What an attempt achieved. `statements` are the effect's own D1 writes (or its record), run in
 * the same batch as the task's transition to succeeded, so the effect and "done" are one. A task
 * that hands its work to a run ends when the run does (see `follow`).
 */
export type Outcome = { kind: 'succeeded'; result: unknown; statements?: Stmt[] } | { kind: 'handed_off'; runId: number };

/** How a task ends. */
export type TaskEnd = { status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; result?: unknown; error?: string };

/** Who asks for a payload check, and where the payload sits in their request (for error paths). */
export type CheckContext = { env: Env; db: DB; ownerId: number; at: (string | number)[] };

export type TaskHandler<P> = {
  /** The payload's schema: unknown fields refused, defaults filled in. */
  payload: z.ZodType<P>;
  /** What the schema cannot see (the workflow is the owner's, the URL may be called); throws an ApiError. */
  check?(c: CheckContext, payload: P): Promise<void>;
  /** One attempt. Throws a TaskError with its verdict on retrying; any other error is retried. */
  run(ctx: AttemptContext, payload: P): Promise<Outcome>;
  /** For tasks that hand off to a run: the run's outcome once it has one (else null), and what to do when time runs out. */
  follow?: {
    poll(env: Env, task: TaskRow & { runId: number }): Promise<TaskEnd | null>;
    expire(env: Env, task: TaskRow & { runId: number }): Promise<TaskEnd>;
  };
  /** The task was cancelled: stop what it handed off. */
  cancel?(env: Env, task: TaskRow, reason: string): Promise<void>;
};

/** Erases a handler's payload type for the registry; the runner parses with `payload` before calling it. */
export const taskHandler = <P>(h: TaskHandler<P>) => h as unknown as TaskHandler<unknown>;

export type TaskHandlers = { readonly [K in TaskType]: TaskHandler<unknown> };

/** A task that ended, as the end-of-task hooks see it. */
export type EndedTask = Pick<TaskRow, 'id' | 'ownerId' | 'scheduleId'>;

/**
 * What another feature does when a task ends. `statements` join the batch that ends the task,
 * right after the task's own transition (so SQLite's `changes()` in them is that transition's:
 * nothing happens if the task had already ended); `after` runs once the batch is written, best
 * effort (the minute cron repairs what a lost call leaves).
 */
export type TaskEndHook = {
  statements?(db: DB, task: EndedTask, ok: boolean, now: number): Stmt[];
  after?(env: Env, ended: EndedTask[]): Promise<void>;
};

export type TaskWiring = { handlers: TaskHandlers; onEnd: readonly TaskEndHook[] };

let installed: TaskWiring | null = null;

/** Called once by src/worker.ts. */
export function installTasks(wiring: TaskWiring): void {
  installed = wiring;
}

export function taskWiring(): TaskWiring {
  if (!installed) throw new Error('no task handlers are installed: src/worker.ts installs them when the Worker loads');
  return installed;
}

/** The end-of-task hooks' statements for a task's end, to follow its transition in the batch. */
export const endStatements = (db: DB, task: EndedTask, ok: boolean, now: number): Stmt[] =>
  taskWiring().onEnd.flatMap((h) => h.statements?.(db, task, ok, now) ?? []);

/** Runs the hooks' `after` for tasks that ended. */
export async function afterEnd(env: Env, ended: EndedTask[]): Promise<void> {
  if (ended.length === 0) return;
  for (const h of taskWiring().onEnd) await h.after?.(env, ended);
}
