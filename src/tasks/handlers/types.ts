import type { DB } from '../../db/client';
import type { Stmt, TaskRow } from '../lifecycle';

/** A failure with its verdict: retryable ones are retried with backoff, the others end the task. */
export class TaskError extends Error {
  override name = 'TaskError';
  constructor(
    message: string,
    readonly retryable: boolean,
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
 * the same batch as the task's transition to succeeded, so the effect and "done" are one.
 */
export type Outcome = { kind: 'succeeded'; result: unknown; statements?: Stmt[] } | { kind: 'handed_off'; runId: number };
