import { sql, type SQL } from 'drizzle-orm';
import { rawRun, type DB } from '../db/client';
import { auditLog } from '../db/schema';

/** Who did it and from where, taken from the request once and passed to plain functions. */
export type RequestMeta = {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  actorUserId: number | null;
  actorApiKeyId: number | null;
};

export type AuditEvent = {
  action: string;
  outcome?: 'success' | 'failure';
  targetType?: string;
  /** A value, or SQL evaluated inside the batch (e.g. the id of a row inserted just before). */
  targetId?: string | number | SQL;
  actorUserId?: number | null | SQL;
  details?: Record<string, unknown>;
};

/**
 * An audit insert, not yet executed: callers put it in the same `db.batch` as the change it
 * records (D1 runs a batch as one transaction).
 */
export function auditInsert(db: DB, meta: RequestMeta, e: AuditEvent) {
  return db.insert(auditLog).values({
    action: e.action,
    outcome: e.outcome ?? 'success',
    targetType: e.targetType ?? null,
    targetId: e.targetId === undefined ? null : typeof e.targetId === 'object' ? e.targetId : String(e.targetId),
    actorUserId: e.actorUserId !== undefined ? e.actorUserId : meta.actorUserId,
    actorApiKeyId: meta.actorApiKeyId,
    requestId: meta.requestId,
    ip: meta.ip,
    userAgent: meta.userAgent,
    details: e.details ?? null,
  });
}

/**
 * An audit insert that only happens if the statement just before it in the same batch changed
 * a row (SQLite's `changes()`), so a no-op update or delete leaves no audit row behind.
 */
export function auditIfChanged(db: DB, meta: RequestMeta, e: AuditEvent) {
  const actor = e.actorUserId !== undefined ? e.actorUserId : meta.actorUserId;
  const target = e.targetId === undefined ? null : typeof e.targetId === 'object' ? e.targetId : String(e.targetId);
  return rawRun(
    db,
    sql`INSERT INTO audit_log
      (action, outcome, target_type, target_id, actor_user_id, actor_api_key_id, request_id, ip, user_agent, details)
    SELECT ${e.action}, ${e.outcome ?? 'success'}, ${e.targetType ?? null}, ${target}, ${actor}, ${meta.actorApiKeyId},
      ${meta.requestId}, ${meta.ip}, ${meta.userAgent}, ${e.details ? JSON.stringify(e.details) : null}
    WHERE changes() > 0`,
  );
}
