import { log } from '../lib/log';
import { purgeExpired, purgeRunStorage } from './retention';

/** The minute of each hour at which the cron tick purges (a missed tick waits for the next hour). */
export const RETENTION_MINUTE = 17;

/**
 * The cron tick's share of retention: once an hour, not every minute, since the scans of the
 * larger tables are not free and nothing here is urgent. Logs what it deleted when it deleted any.
 */
export async function retentionCron(env: Env, now = Date.now()): Promise<void> {
  if (new Date(now).getUTCMinutes() !== RETENTION_MINUTE) return;
  const deleted = { ...(await purgeExpired(env, now)), run_objects: await purgeRunStorage(env) };
  if (Object.values(deleted).some((n) => n > 0)) log(env.LOG_LEVEL, 'info', 'retention purge', deleted);
}
