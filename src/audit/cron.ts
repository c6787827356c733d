import { z } from '@hono/zod-openapi';
import { log } from '../lib/log';
import { auditChain } from './rpc';
import { dailyCutoff } from './retention';

const RetentionDays = z.coerce.number().int().min(0).max(36_500);

/**
 * The cron tick's share of the audit trail: seal what was written since the last tick, then
 * apply AUDIT_RETENTION_DAYS ("0" or unset keeps everything). Entries written between ticks stay
 * unsealed for up to a minute unless an audit read seals them first.
 */
export async function auditCron(env: Env, now = Date.now()): Promise<void> {
  const chain = auditChain(env);
  const parsed = RetentionDays.safeParse(env.AUDIT_RETENTION_DAYS ?? '0');
  if (!parsed.success)
    log(env.LOG_LEVEL, 'error', 'AUDIT_RETENTION_DAYS is not a whole number of days; retention skipped', {
      value: env.AUDIT_RETENTION_DAYS,
    });
  const days = parsed.success ? parsed.data : 0;
  if (days === 0) {
    await chain.seal();
    return;
  }
  const meta = { requestId: `cron-${now}`, ip: null, userAgent: null, actorUserId: null, actorApiKeyId: null };
  const outcome = await chain.retain(dailyCutoff(now, days), meta, { reason: `retention: older than ${days} days`, auditNoop: false });
  if (!outcome.ok) log(env.LOG_LEVEL, 'error', 'audit retention refused: the entries to remove do not verify', outcome.first_invalid);
}
