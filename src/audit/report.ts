import { sql } from 'drizzle-orm';
import { rawAll, type DB } from '../db/client';
import { toIso } from '../lib/time';
import type { VerifyResult } from './chain';
import { csvLine } from './export';
import type { Report } from './schemas';

/** Groups listed per section at most; `truncated` says when there were more. */
export const REPORT_ROWS = 1000;

const cap = <T>(rows: T[]) => ({ rows: rows.slice(0, REPORT_ROWS), truncated: rows.length > REPORT_ROWS });

/*
 * `details` may hold text that is not JSON only if someone wrote it by hand; json_valid keeps
 * json_extract from failing the whole report on such an entry.
 */
const loginName = sql.raw(`CASE WHEN json_valid(details) THEN json_extract(details, '$.login') END`);

/**
 * The compliance report over [from, to] (inclusive, epoch ms), every figure counted by SQL in one
 * D1 batch (one consistent snapshot):
 * - admin actions: entries whose actor is an admin, by actor and action. The audit log does not
 *   record the actor's role at the time, so this uses the current role.
 * - access to each resource: entries with a target, by target type (with distinct resources and
 *   actors) and by target and actor.
 * - failed logins (`auth.login` with outcome failure), by the login name tried and client IP.
 * - security events in the period, by type and severity.
 * - the chain verification, passed in (it comes from the sealer object).
 */
export async function complianceReport(db: DB, from: number, to: number, chain: VerifyResult, now = Date.now()): Promise<Report> {
  const limit = REPORT_ROWS + 1;
  const [totals, admin, byType, byResource, failedTotal, failed, eventsTotal, events] = await db.batch([
    rawAll<{ total: number; success: number | null; failure: number | null }>(
      db,
      sql`SELECT count(*) AS total, sum(outcome = 'success') AS success, sum(outcome = 'failure') AS failure FROM audit_log WHERE at BETWEEN ${from} AND ${to}`,
    ),
    rawAll<{ actor_user_id: number; username: string; action: string; count: number }>(
      db,
      sql`SELECT a.actor_user_id, u.username, a.action, count(*) AS count
          FROM audit_log a JOIN users u ON u.id = a.actor_user_id
          WHERE u.role = 'admin' AND a.at BETWEEN ${from} AND ${to}
          GROUP BY a.actor_user_id, u.username, a.action ORDER BY count DESC, a.actor_user_id, a.action LIMIT ${limit}`,
    ),
    rawAll<{ target_type: string; count: number; resources: number; actors: number }>(
      db,
      sql`SELECT target_type, count(*) AS count, count(DISTINCT target_id) AS resources, count(DISTINCT actor_user_id) AS actors
          FROM audit_log WHERE target_type IS NOT NULL AND at BETWEEN ${from} AND ${to}
          GROUP BY target_type ORDER BY count DESC, target_type`,
    ),
    rawAll<{ target_type: string; target_id: string | null; actor_user_id: number | null; count: number }>(
      db,
      sql`SELECT target_type, target_id, actor_user_id, count(*) AS count
          FROM audit_log WHERE target_type IS NOT NULL AND at BETWEEN ${from} AND ${to}
          GROUP BY target_type, target_id, actor_user_id ORDER BY count DESC, target_type, target_id, actor_user_id LIMIT ${limit}`,
    ),
    rawAll<{ n: number }>(
      db,
      sql`SELECT count(*) AS n FROM audit_log WHERE action = 'auth.login' AND outcome = 'failure' AND at BETWEEN ${from} AND ${to}`,
    ),
    rawAll<{ login: string | null; ip: string | null; count: number; first_at: number; last_at: number }>(
      db,
      sql`SELECT ${loginName} AS login, ip, count(*) AS count, min(at) AS first_at, max(at) AS last_at
          FROM audit_log WHERE action = 'auth.login' AND outcome = 'failure' AND at BETWEEN ${from} AND ${to}
          GROUP BY 1, 2 ORDER BY count DESC, login, ip LIMIT ${limit}`,
    ),
    rawAll<{ n: number }>(db, sql`SELECT count(*) AS n FROM security_events WHERE at BETWEEN ${from} AND ${to}`),
    rawAll<{ type: string; severity: string; count: number }>(
      db,
      sql`SELECT type, severity, count(*) AS count FROM security_events WHERE at BETWEEN ${from} AND ${to}
          GROUP BY type, severity ORDER BY count DESC, type, severity`,
    ),
  ]);
  const t = totals[0];
  return {
    from: toIso(from),
    to: toIso(to),
    generated_at: toIso(now),
    entries: { total: t?.total ?? 0, success: t?.success ?? 0, failure: t?.failure ?? 0 },
    admin_actions: cap(admin),
    resource_access: { by_type: byType, by_resource: cap(byResource) },
    failed_logins: {
      total: failedTotal[0]?.n ?? 0,
      by_login_and_ip: cap(
        failed.map((r) => ({
          login: r.login === null ? null : String(r.login),
          ip: r.ip,
          count: r.count,
          first_at: toIso(r.first_at),
          last_at: toIso(r.last_at),
        })),
      ),
    },
    security_events: { total: eventsTotal[0]?.n ?? 0, by_type_and_severity: events },
    chain,
  };
}

const REPORT_CSV_COLUMNS = [
  'section',
  'actor_user_id',
  'username',
  'action',
  'target_type',
  'target_id',
  'login',
  'ip',
  'event_type',
  'severity',
  'count',
] as const;
type CsvRow = Partial<Record<(typeof REPORT_CSV_COLUMNS)[number], unknown>>;

/** The report as one CSV table: a row per counted group, `section` naming the table it belongs to. */
export function reportCsv(r: Report): string {
  const rows: CsvRow[] = [
    { section: 'entries', action: '*', count: r.entries.total },
    { section: 'entries', action: 'success', count: r.entries.success },
    { section: 'entries', action: 'failure', count: r.entries.failure },
    ...r.admin_actions.rows.map((a) => ({
      section: 'admin_actions',
      actor_user_id: a.actor_user_id,
      username: a.username,
      action: a.action,
      count: a.count,
    })),
    ...r.resource_access.by_type.map((a) => ({ section: 'resource_access_by_type', target_type: a.target_type, count: a.count })),
    ...r.resource_access.by_resource.rows.map((a) => ({
      section: 'resource_access',
      target_type: a.target_type,
      target_id: a.target_id,
      actor_user_id: a.actor_user_id,
      count: a.count,
    })),
    ...r.failed_logins.by_login_and_ip.rows.map((a) => ({ section: 'failed_logins', login: a.login, ip: a.ip, count: a.count })),
    ...r.security_events.by_type_and_severity.map((a) => ({
      section: 'security_events',
      event_type: a.type,
      severity: a.severity,
      count: a.count,
    })),
    {
      section: 'chain',
      action: r.chain.valid ? 'valid' : `invalid at ${r.chain.first_invalid?.id}: ${r.chain.first_invalid?.reason}`,
      count: r.chain.checked,
    },
  ];
  return csvLine([...REPORT_CSV_COLUMNS]) + rows.map((row) => csvLine(REPORT_CSV_COLUMNS.map((c) => row[c]))).join('');
}
