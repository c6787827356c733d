import { sql, type SQL } from 'drizzle-orm';
import { getDb } from '../db/client';
import { objectStub } from '../lib/stubs';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Rows one rule deletes per pass at most: each pass is one bounded statement, and the next pass goes on. */
export const PURGE_BATCH = 5000;

/**
 * Which rows of each table that only ever grows are no longer needed, and why they may go.
 * Credentials go as soon as nothing can use them (plus a day, so support can still see why a
 * sign-in failed); records of what happened are kept for a fixed time. The audit trail has its
 * own retention behind a checkpoint (AUDIT_RETENTION_DAYS, src/audit/retention.ts), and a run's
 * rows are removed by the `cleanup` task its owner schedules.
 *
 * `rows` selects the rowids to delete, oldest first, at most PURGE_BATCH of them. Tables without
 * a time index are walked by id, which grows with time: everything before the first row that is
 * still new enough, so a pass with nothing to delete reads one row.
 */
export const RETENTION: readonly { table: string; keep: string; rows: (now: number) => SQL }[] = [
  {
    table: 'sessions',
    keep: 'until expired, or 30 days after being revoked (their refresh tokens go with them)',
    rows: (now) => sql`SELECT rowid FROM sessions WHERE expires_at < ${now} OR revoked_at < ${now - 30 * DAY} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'refresh_tokens',
    keep: 'until expired (an exchanged one is kept until then, so that its reuse is still detected)',
    rows: (now) => sql`SELECT rowid FROM refresh_tokens WHERE expires_at < ${now} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'login_challenges',
    keep: 'one day past expiry',
    rows: (now) => sql`SELECT rowid FROM login_challenges WHERE expires_at < ${now - DAY} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'password_reset_tokens',
    keep: 'one day past expiry',
    rows: (now) => sql`SELECT rowid FROM password_reset_tokens WHERE expires_at < ${now - DAY} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'email_verifications',
    keep: 'one day past expiry',
    rows: (now) => sql`SELECT rowid FROM email_verifications WHERE expires_at < ${now - DAY} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'socket_tickets',
    keep: 'one hour past expiry (tickets live 30 seconds)',
    rows: (now) => sql`SELECT rowid FROM socket_tickets WHERE expires_at < ${now - HOUR} LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'security_events',
    keep: '180 days',
    rows: (now) => sql`SELECT rowid FROM security_events WHERE at < ${now - 180 * DAY} ORDER BY at LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'analytics_events',
    keep: '400 days (a year-on-year comparison still has its year)',
    rows: (now) => sql`SELECT rowid FROM analytics_events WHERE at < ${now - 400 * DAY} ORDER BY at LIMIT ${PURGE_BATCH}`,
  },
  {
    table: 'notification_deliveries',
    keep: '90 days once finished (their attempts go with them)',
    rows: (now) => byId('notification_deliveries', now - 90 * DAY, sql`finished_at IS NOT NULL`),
  },
  {
    table: 'automation_executions',
    keep: '90 days once finished (their action results go with them)',
    rows: (now) => byId('automation_executions', now - 90 * DAY, sql`finished_at IS NOT NULL`),
  },
];

function byId(table: string, cutoff: number, finished: SQL): SQL {
  const t = sql.raw(table);
  return sql`SELECT id FROM ${t} WHERE id < coalesce((SELECT id FROM ${t} WHERE created_at >= ${cutoff} ORDER BY id LIMIT 1), 9007199254740991)
    AND created_at < ${cutoff} AND ${finished} ORDER BY id LIMIT ${PURGE_BATCH}`;
}

/**
 * One pass of every rule; returns how many rows each deleted, counting (as D1 does) the child
 * rows that went with them by ON DELETE CASCADE: refresh tokens of a session, attempts of a
 * delivery, action results of an execution.
 */
export async function purgeExpired(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const db = getDb(env.DB);
  const deleted: Record<string, number> = {};
  for (const rule of RETENTION) {
    const t = sql.raw(rule.table);
    const result = await db.run(sql`DELETE FROM ${t} WHERE rowid IN (${rule.rows(now)})`);
    deleted[rule.table] = result.meta.changes ?? 0;
  }
  return deleted;
}

/** Run objects purged per pass, and how many at once. */
export const RUN_PURGE_BATCH = 200;
const RUN_PURGE_PARALLEL = 10;

/** What the retention cron asks of a run object (durable-objects/workflow-run.ts). */
interface RunStorage {
  purge(): void;
}

/**
 * Deletes the storage of run objects whose run row is gone, as noted by the `runs_purge_storage`
 * trigger (migration 0018), and forgets each note once its object is empty. A failed purge keeps
 * its note, so the next pass tries again. Returns how many objects were purged.
 */
export async function purgeRunStorage(env: Env): Promise<number> {
  const db = getDb(env.DB);
  const notes = await db.all<{ run_id: number }>(sql`SELECT run_id FROM run_storage_purges ORDER BY deleted_at LIMIT ${RUN_PURGE_BATCH}`);
  let purged = 0;
  for (let i = 0; i < notes.length; i += RUN_PURGE_PARALLEL) {
    const chunk = notes.slice(i, i + RUN_PURGE_PARALLEL).map((n) => n.run_id);
    // The object's name is the one the runs feature gives it (src/runs/rpc.ts, runStub).
    const results = await Promise.allSettled(chunk.map((id) => objectStub<RunStorage>(env.WORKFLOW_RUN, `run:${id}`).purge()));
    const done = chunk.filter((_, j) => results[j]!.status === 'fulfilled');
    if (done.length > 0) await db.run(sql`DELETE FROM run_storage_purges WHERE run_id IN (${sql.join(done, sql`, `)})`);
    purged += done.length;
  }
  return purged;
}
