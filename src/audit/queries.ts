import { and, desc, eq, gt, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditLog } from '../db/schema';
import { toIso } from '../lib/time';
import type { FilterQuery } from './schemas';

export type AuditFilter = {
  userId?: number;
  action?: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  from?: number;
  to?: number;
};

export const filterOf = (q: FilterQuery): AuditFilter => ({
  userId: q.user_id,
  action: q.action,
  targetType: q.target_type,
  targetId: q.target_id,
  outcome: q.outcome,
  from: q.from,
  to: q.to,
});

/**
 * A family such as `auth.*` becomes the range ['auth.', 'auth/'): '/' follows '.' in byte order,
 * so the range holds exactly the names starting with `auth.`, and the (action, id) index serves it.
 */
function actionCondition(action: string): SQL {
  if (!action.endsWith('.*')) return eq(auditLog.action, action);
  const prefix = action.slice(0, -1);
  return and(gte(auditLog.action, prefix), lt(auditLog.action, `${prefix.slice(0, -1)}/`))!;
}

export function filterConditions(f: AuditFilter): SQL[] {
  const where: SQL[] = [];
  if (f.userId !== undefined) where.push(eq(auditLog.actorUserId, f.userId));
  if (f.action) where.push(actionCondition(f.action));
  if (f.targetType) where.push(eq(auditLog.targetType, f.targetType));
  if (f.targetId) where.push(eq(auditLog.targetId, f.targetId));
  if (f.outcome) where.push(eq(auditLog.outcome, f.outcome));
  if (f.from !== undefined) where.push(gte(auditLog.at, f.from));
  if (f.to !== undefined) where.push(lte(auditLog.at, f.to));
  return where;
}

/*
 * `details` is read as its stored text rather than through drizzle's JSON column, which would
 * throw on text that is not JSON; the listing must still show an entry someone tampered with.
 */
const columns = {
  id: auditLog.id,
  at: auditLog.at,
  actorUserId: auditLog.actorUserId,
  actorApiKeyId: auditLog.actorApiKeyId,
  action: auditLog.action,
  outcome: auditLog.outcome,
  targetType: auditLog.targetType,
  targetId: auditLog.targetId,
  requestId: auditLog.requestId,
  ip: auditLog.ip,
  userAgent: auditLog.userAgent,
  details: sql<string | null>`${auditLog.details}`,
  prevHash: auditLog.prevHash,
  hash: auditLog.hash,
};
type EntryRow = Omit<typeof auditLog.$inferSelect, 'details'> & { details: string | null };

function parseDetails(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function entryView(r: EntryRow) {
  return {
    id: r.id,
    at: toIso(r.at),
    actor_user_id: r.actorUserId,
    actor_api_key_id: r.actorApiKeyId,
    action: r.action,
    outcome: r.outcome,
    target_type: r.targetType,
    target_id: r.targetId,
    request_id: r.requestId,
    ip: r.ip,
    user_agent: r.userAgent,
    details: parseDetails(r.details),
    prev_hash: r.prevHash,
    hash: r.hash,
    sealed: r.hash !== null,
  };
}
export type EntryView = ReturnType<typeof entryView>;

/** Audit entries matching the filter, newest first, one keyset page (`limit + 1` rows, see toPage). */
export function listEntries(db: DB, f: AuditFilter, limit: number, before?: number): Promise<EntryRow[]> {
  const where = filterConditions(f);
  if (before !== undefined) where.push(lt(auditLog.id, before));
  return db
    .select(columns)
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(limit + 1)
    .all();
}

/** Entries matching the filter with id in (after, upto], oldest first: the export's pages. */
export function entriesAfter(db: DB, f: AuditFilter, after: number, upto: number, limit: number): Promise<EntryRow[]> {
  return db
    .select(columns)
    .from(auditLog)
    .where(and(...filterConditions(f), gt(auditLog.id, after), lte(auditLog.id, upto)))
    .orderBy(auditLog.id)
    .limit(limit)
    .all();
}

export async function maxEntryId(db: DB): Promise<number> {
  return (
    (
      await db
        .select({ id: sql<number | null>`max(${auditLog.id})` })
        .from(auditLog)
        .get()
    )?.id ?? 0
  );
}
