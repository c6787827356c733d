import { log } from '../lib/log';
import { sweepStuckRuns } from './launch';

/** The runs feature's share of the minute cron: runs whose object never took them are started again, or failed. */
export async function runsCron(env: Env, now = Date.now()): Promise<void> {
  const swept = await sweepStuckRuns(env, now);
  if (swept.restarted || swept.failed) log(env.LOG_LEVEL, 'warn', 'cron: runs stuck in queued', swept);
}
