import { log } from '../lib/log';
import { reconcileTasks } from '../tasks/reconcile';
import { reconcileSchedules } from './reconcile';

/**
 * The Cron Trigger (every minute, see wrangler.toml): the safety net under alarms and queue
 * messages. Both halves run even if one fails; a failure is rethrown so the invocation shows
 * as failed in Workers Logs.
 */
export async function onCron(env: Env, now = Date.now()): Promise<void> {
  const [schedules, tasks] = await Promise.allSettled([reconcileSchedules(env, now), reconcileTasks(env, now)]);
  log(env.LOG_LEVEL, 'info', 'cron reconcile', {
    schedules: schedules.status === 'fulfilled' ? schedules.value : String(schedules.reason),
    tasks: tasks.status === 'fulfilled' ? tasks.value : String(tasks.reason),
  });
  for (const r of [schedules, tasks]) if (r.status === 'rejected') throw r.reason;
}
