import { and, desc, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import { rawAll, type DB } from '../db/client';
import { securityEvents, SEVERITIES, type SecurityEventType, type Severity } from '../db/schema';

export type EventFilter = {
  type?: SecurityEventType;
  /** Minimum severity: `high` lists high and critical. */
  severity?: Severity;
  userId?: number;
  ip?: string;
  from?: number;
  to?: number;
};

/** Security events, newest first, one keyset page (`limit + 1` rows, see toPage). */
export function listSecurityEvents(db: DB, f: EventFilter, limit: number, before?: number) {
  const where: SQL[] = [];
  if (f.type) where.push(eq(securityEvents.type, f.type));
  if (f.severity) where.push(inArray(securityEvents.severity, SEVERITIES.slice(SEVERITIES.indexOf(f.severity))));
  if (f.userId !== undefined) where.push(eq(securityEvents.userId, f.userId));
  if (f.ip) where.push(eq(securityEvents.ip, f.ip));
  if (f.from !== undefined) where.push(gte(securityEvents.at, f.from));
  if (f.to !== undefined) where.push(lte(securityEvents.at, f.to));
  if (before !== undefined) where.push(lt(securityEvents.id, before));
  return db
    .select()
    .from(securityEvents)
    .where(and(...where))
    .orderBy(desc(securityEvents.id))
    .limit(limit + 1)
    .all();
}

type Count = { key: string; n: number };
const asRecord = (rows: Count[]) => Object.fromEntries(rows.map((r) => [r.key, r.n]));

/**
 * The figures behind `GET /api/v3/security/stats`, each counted by SQL over the stored rows in
 * one D1 batch: security events by type and severity in the window, sign-in outcomes from the
 * audit log, live sessions, MFA adoption, API keys, configured rules, and the audit chain's
 * sealed/unsealed split.
 */
export async function securityStats(db: DB, windowHours: number, now = Date.now()) {
  const since = now - windowHours * 3_600_000;
  const [byType, bySeverity, logins, sessions, usersRow, keys, rules, audit, recent] = await db.batch([
    rawAll<Count>(db, sql`SELECT type AS key, count(*) AS n FROM security_events WHERE at >= ${since} GROUP BY type`),
    rawAll<Count>(db, sql`SELECT severity AS key, count(*) AS n FROM security_events WHERE at >= ${since} GROUP BY severity`),
    rawAll<Count>(
      db,
      sql`SELECT outcome AS key, count(*) AS n FROM audit_log WHERE action = 'auth.login' AND at >= ${since} GROUP BY outcome`,
    ),
    rawAll<{ active: number; users: number }>(
      db,
      sql`SELECT count(*) AS active, count(DISTINCT user_id) AS users FROM sessions WHERE revoked_at IS NULL AND expires_at > ${now}`,
    ),
    rawAll<{ total: number; admins: number; mfa: number }>(
      db,
      sql`SELECT count(*) AS total, sum(role = 'admin') AS admins,
            (SELECT count(*) FROM user_mfa WHERE confirmed_at IS NOT NULL) AS mfa FROM users`,
    ),
    rawAll<{ active: number; used: number }>(
      db,
      sql`SELECT count(*) AS active, sum(last_used_at >= ${since}) AS used FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${now})`,
    ),
    rawAll<{ ip_rules: number; policies: number }>(
      db,
      sql`SELECT (SELECT count(*) FROM ip_rules) AS ip_rules, (SELECT count(*) FROM rate_limit_policies) AS policies`,
    ),
    rawAll<{ total: number; unsealed: number }>(db, sql`SELECT count(*) AS total, sum(hash IS NULL) AS unsealed FROM audit_log`),
    db
      .select()
      .from(securityEvents)
      .where(inArray(securityEvents.severity, ['high', 'critical']))
      .orderBy(desc(securityEvents.id))
      .limit(10),
  ]);
  const u = usersRow[0] ?? { total: 0, admins: 0, mfa: 0 };
  const k = keys[0] ?? { active: 0, used: 0 };
  const loginCounts = asRecord(logins);
  return {
    window_hours: windowHours,
    generated_at: new Date(now).toISOString(),
    events: {
      total: byType.reduce((s, r) => s + r.n, 0),
      by_type: asRecord(byType),
      by_severity: Object.fromEntries(SEVERITIES.map((s) => [s, asRecord(bySeverity)[s] ?? 0])),
      recent_alerts: recent,
    },
    logins: { succeeded: loginCounts.success ?? 0, failed: loginCounts.failure ?? 0 },
    sessions: { active: sessions[0]?.active ?? 0, users_signed_in: sessions[0]?.users ?? 0 },
    users: {
      total: u.total,
      admins: u.admins ?? 0,
      mfa_enabled: u.mfa ?? 0,
      mfa_adoption: u.total ? Number(((u.mfa ?? 0) / u.total).toFixed(4)) : 0,
    },
    api_keys: { active: k.active, used_in_window: k.used ?? 0 },
    configuration: { ip_rules: rules[0]?.ip_rules ?? 0, rate_limit_overrides: rules[0]?.policies ?? 0 },
    audit: { entries: audit[0]?.total ?? 0, unsealed: audit[0]?.unsealed ?? 0 },
  };
}
