import { sql } from 'drizzle-orm';
import { rawRun, type DB } from '../db/client';
import { securityEvents, type SecurityEventType, type Severity } from '../db/schema';
import { publishEvents } from '../lib/events';
import { limiter } from '../lib/limits';
import { log } from '../lib/log';

export type SecurityEventInput = {
  type: SecurityEventType;
  severity: Severity;
  userId?: number | null;
  ip?: string | null;
  /** Events sharing a key are recorded once (a burst is one event, not one per failure). */
  dedupeKey?: string;
  details?: Record<string, unknown>;
};

/** Severities that alert every admin: an in-app notification, pushed live to their connections. */
const ALERTING: readonly Severity[] = ['high', 'critical'];

/**
 * Records a security event; a severe one is also raised as a `security.alert` domain event, in the
 * same D1 batch, which the notifications subscriber turns into every admin's alert. Returns the
 * stored row's id, or null when an event with the same dedupe key already exists. Never throws: a
 * failure to record is logged, because the request that observed the event must still get its
 * own answer.
 */
export async function recordSecurityEvent(env: Env, db: DB, e: SecurityEventInput): Promise<number | null> {
  try {
    const insert = db
      .insert(securityEvents)
      .values({
        type: e.type,
        severity: e.severity,
        userId: e.userId ?? null,
        ip: e.ip ?? null,
        dedupeKey: e.dedupeKey ?? null,
        details: e.details ?? null,
      })
      .onConflictDoNothing()
      .returning({ id: securityEvents.id, at: securityEvents.at });
    if (!ALERTING.includes(e.severity)) return (await insert.get())?.id ?? null;
    const [rows] = await db.batch([insert, alertInsert(db)]);
    const row = rows[0];
    if (!row) return null;
    log(env.LOG_LEVEL, 'warn', 'security alert', {
      id: row.id,
      type: e.type,
      severity: e.severity,
      user_id: e.userId ?? null,
      ip: e.ip ?? null,
    });
    await publishEvents(env);
    return row.id;
  } catch (err) {
    log(env.LOG_LEVEL, 'error', 'security event not recorded', { type: e.type, error: String(err) });
    return null;
  }
}

/**
 * The `security.alert` event of the security event inserted just before it in the batch, built in
 * SQL from the stored row (its id is only known there). `changes()` is that insert's: a deduplicated
 * event inserted nothing and raises nothing.
 */
function alertInsert(db: DB) {
  const eventId = sql`'security_event:' || s.id || ':alert'`;
  return rawRun(
    db,
    sql`INSERT INTO event_outbox (event_id, body)
    SELECT ${eventId}, json_object('id', ${eventId}, 'type', 'security.alert', 'ownerId', NULL, 'at', s.at,
      'data', json_object('event_id', s.id, 'at', s.at, 'type', s.type, 'severity', s.severity, 'user_id', s.user_id, 'ip', s.ip,
        'details', json(coalesce(s.details, '{}'))),
      'effectRef', NULL)
    FROM security_events s WHERE s.id = (SELECT max(id) FROM security_events) AND changes() > 0
    ON CONFLICT (event_id) DO NOTHING`,
  );
}

/**
 * Counts one occurrence toward a burst threshold with an exact counter (a RateLimiter object);
 * true exactly once per window, on the occurrence that reaches the threshold. The window start
 * is returned so callers can make a dedupe key of it.
 */
export async function reachesBurst(
  env: Env,
  key: string,
  threshold: number,
  windowSeconds: number,
): Promise<{ reached: boolean; windowStart: number }> {
  const r = await limiter(env, `burst:${key}`).hit(threshold, windowSeconds * 1000);
  return { reached: r.allowed && r.remaining === 0, windowStart: r.resetAt - windowSeconds * 1000 };
}

/** Refusals (401/403) from one subject within a minute that make an `access_denied_spike`. */
export const DENIED_SPIKE = { threshold: 20, windowSeconds: 60 };

/**
 * Counts a refused request toward its subject's access-denied spike (the signed-in user, else the
 * client IP; anonymous local requests without an IP are not counted) and records one high
 * severity event when the threshold is reached. Runs after the answer, through waitUntil.
 */
export async function noteAccessDenied(
  env: Env,
  db: DB,
  who: { userId: number | null; ip: string | null },
  what: { code: string; method: string; path: string },
): Promise<void> {
  const subject = who.userId !== null ? `user:${who.userId}` : who.ip ? `ip:${who.ip}` : null;
  if (!subject) return;
  const { reached, windowStart } = await reachesBurst(env, `denied:${subject}`, DENIED_SPIKE.threshold, DENIED_SPIKE.windowSeconds);
  if (!reached) return;
  await recordSecurityEvent(env, db, {
    type: 'access_denied_spike',
    severity: 'high',
    userId: who.userId,
    ip: who.ip,
    dedupeKey: `access_denied_spike:${subject}:${windowStart}`,
    details: { refusals: DENIED_SPIKE.threshold, window_seconds: DENIED_SPIKE.windowSeconds, last: what },
  });
}
