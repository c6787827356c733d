import { log } from '../lib/log';
import { compactAll } from './queries';

/**
 * The cron tick's share of metrics: every shard merges its minute points older than a day into
 * hourly points and deletes hourly points older than 30 days. Each shard compacts in one
 * transaction and a second run finds nothing left to merge, so a failed or repeated tick is
 * harmless; every minute, each run only has about one hour boundary's worth of work.
 */
export async function metricsCron(env: Env, now = Date.now()): Promise<void> {
  const results = await compactAll(env, now);
  const merged = results.reduce((a, r) => a + r.minutePointsMerged, 0);
  if (merged > 0)
    log(env.LOG_LEVEL, 'info', 'metrics downsampled', {
      minutePointsMerged: merged,
      hourPointsWritten: results.reduce((a, r) => a + r.hourPointsWritten, 0),
    });
}
