import { sql } from 'drizzle-orm';
import { rawRun } from '../db/client';
import { log } from '../lib/log';
import type { TaskEndHook } from '../tasks';
import { scheduleTimer } from './rpc';

/**
 * What the scheduler does when one of its tasks ends (installed by src/worker.ts):
 * - in the same batch as the task's end, only if that end changed the task's row: the schedule's
 *   consecutive failure streak, reset by a success, and the schedule paused once the streak
 *   reaches `pause_after_failures`;
 * - after the batch: the schedule's timer is told, so a fire buffered behind the task (overlap
 *   `buffer_one`) may start now. A lost tick is repaired by the minute cron.
 */
export const schedulerTaskHooks: TaskEndHook = {
  statements(db, task, ok, now) {
    if (task.scheduleId === null) return [];
    const trips = sql`(NOT ${ok} AND pause_after_failures IS NOT NULL AND consecutive_failures + 1 >= pause_after_failures AND state = 'active')`;
    return [
      rawRun(
        db,
        sql`UPDATE schedules SET
        consecutive_failures = CASE WHEN ${ok} THEN 0 ELSE consecutive_failures + 1 END,
        state = CASE WHEN ${trips} THEN 'paused' ELSE state END,
        paused_reason = CASE WHEN ${trips} THEN 'paused after ' || (consecutive_failures + 1) || ' consecutive failures' ELSE paused_reason END,
        version = CASE WHEN ${trips} THEN version + 1 ELSE version END,
        updated_at = ${now}
      WHERE id = ${task.scheduleId} AND changes() > 0`,
      ),
    ];
  },
  async after(env, ended) {
    const ids = new Set(ended.map((t) => t.scheduleId).filter((s): s is number => s !== null));
    for (const id of ids) {
      try {
        await scheduleTimer(env, id).tick(id, 'task');
      } catch (err) {
        log(env.LOG_LEVEL, 'warn', 'could not tell a schedule that its task ended', { schedule_id: id, error: String(err) });
      }
    }
  },
};
