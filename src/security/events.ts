import { eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { securityEvents, users, type SecurityEventType, type Severity } from '../db/schema';
import { limiter } from '../lib/limits';
import { log } from '../lib/log';
import { deliverInApp } from '../notifications/inbox';
import { toIso } from '../lib/time';

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
 * Records a security event and alerts admins when it is severe. Returns the stored row's id, or
 * null when an event with the same dedupe key already exists. Never throws: a failure to record
 * is logged, because the request that observed the event must still get its own answer.
 */
export async function recordSecurityEvent(env: Env, db: DB, e: SecurityEventInput): Promise<number | null> {
  try {
    const row = await db
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
      .returning({ id: securityEvents.id, at: securityEvents.at })
      .get();
    if (!row) return null;
    if (ALERTING.includes(e.severity)) await alertAdmins(env, db, { id: row.id, at: row.at, ...e });
    return row.id;
  } catch (err) {
    log(env.LOG_LEVEL, 'error', 'security event not recorded', { type: e.type, error: String(err) });
    return null;
  }
}

async function alertAdmins(env: Env, db: DB, event: SecurityEventInput & { id: number; at: number }) {
  const admins = await db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).all();
  const view = {
    id: event.id,
    at: toIso(event.at),
    type: event.type,
    severity: event.severity,
    user_id: event.userId ?? null,
    ip: event.ip ?? null,
    details: event.details ?? {},
  };
  log(env.LOG_LEVEL, 'warn', 'security alert', view);
  const title = `Security: ${event.type.replace(/_/g, ' ')} (${event.severity})`;
  const body =
    [event.userId ? `user ${event.userId}` : null, event.ip ? `from ${event.ip}` : null].filter(Boolean).join(' ') ||
    'see the event details';
  await Promise.allSettled(
    admins.map((a) =>
      deliverInApp(env, db, a.id, {
        category: 'security',
        title,
        body,
        data: { event: view },
        priority: event.severity === 'critical' ? 'urgent' : 'high',
        dedupeKey: `security_event:${event.id}`,
      }),
    ),
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
