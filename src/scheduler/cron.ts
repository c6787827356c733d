import { log } from '../lib/log';
import { reconcileSchedules } from './reconcile';

/**
 * The scheduler's share of the minute Cron Trigger (see wrangler.toml): the safety net under the
 * timers' alarms. Re-arms lost alarms and fires what they missed.
 */
export async function schedulerCron(env: Env, now = Date.now()): Promise<void> {
  const schedules = await reconcileSchedules(env, now);
  log(env.LOG_LEVEL, 'info', 'cron reconcile: schedules', { schedules });
}
