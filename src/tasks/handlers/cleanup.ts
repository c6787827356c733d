import { sql, type SQL } from 'drizzle-orm';
import { rawRun, type DB, type Stmt } from '../../db/client';
import type { Payloads } from '../payloads';
import type { AttemptContext, Outcome } from '../registry';

/** Deletes, then records how many rows it deleted, in the same batch (changes() is per statement). */
function deleteAndCount(db: DB, taskId: number, target: string, children: SQL[], rows: SQL): Stmt[] {
  return [
    ...children.map((c) => rawRun(db, c)),
    rawRun(db, rows),
    rawRun(
      db,
      sql`INSERT INTO task_effects (task_id, effect, detail) VALUES (${taskId}, ${`deleted:${target}`}, json_object('deleted', changes()))
      ON CONFLICT (task_id, effect) DO NOTHING`,
    ),
  ];
}

/**
 * cleanup: retention for the task owner's own rows older than `older_than_days` — finished
 * tasks (with their attempts and effects), schedule fire history, and finished runs (with
 * their node rows; documents stay, they are the work's product). Every delete runs in the same
 * D1 batch as its effect record and the task's success, so the cleanup happens once, entirely.
 * A run's event log lives in its Durable Object's storage and is not reached from here.
 */
export async function cleanup({ db, task, now }: AttemptContext, p: Payloads['cleanup']): Promise<Outcome> {
  const cutoff = now - p.older_than_days * 86_400_000;
  const owner = task.ownerId;
  const oldTasks = sql`SELECT id FROM tasks WHERE owner_id = ${owner} AND id != ${task.id}
    AND status IN ('succeeded', 'failed', 'cancelled', 'timed_out', 'dead') AND finished_at < ${cutoff}`;
  const oldRuns = sql`SELECT id FROM runs WHERE owner_id = ${owner} AND status IN ('succeeded', 'failed', 'cancelled') AND finished_at < ${cutoff}`;
  const statements: Stmt[] = [];
  if (p.include.includes('tasks')) {
    statements.push(
      ...deleteAndCount(
        db,
        task.id,
        'tasks',
        [sql`DELETE FROM task_attempts WHERE task_id IN (${oldTasks})`, sql`DELETE FROM task_effects WHERE task_id IN (${oldTasks})`],
        sql`DELETE FROM tasks WHERE id IN (${oldTasks})`,
      ),
    );
  }
  if (p.include.includes('schedule_fires')) {
    statements.push(
      ...deleteAndCount(
        db,
        task.id,
        'schedule_fires',
        [],
        sql`DELETE FROM schedule_fires WHERE owner_id = ${owner} AND fired_at < ${cutoff}`,
      ),
    );
  }
  if (p.include.includes('runs')) {
    statements.push(
      ...deleteAndCount(
        db,
        task.id,
        'runs',
        [sql`DELETE FROM node_attempts WHERE run_id IN (${oldRuns})`, sql`DELETE FROM run_nodes WHERE run_id IN (${oldRuns})`],
        sql`DELETE FROM runs WHERE id IN (${oldRuns})`,
      ),
    );
  }
  const result = sql`json_object('older_than_days', ${p.older_than_days}, 'cutoff', ${new Date(cutoff).toISOString()}, 'deleted',
    json((SELECT json_group_object(substr(effect, 9), json_extract(detail, '$.deleted')) FROM task_effects WHERE task_id = ${task.id} AND effect LIKE 'deleted:%')))`;
  return { kind: 'succeeded', result, statements };
}
