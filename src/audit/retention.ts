import { and, gt, lte } from 'drizzle-orm';
import type { DB } from '../db/client';
import { auditCheckpoints, auditLog } from '../db/schema';
import { chainStart, Findings, walkChain, type ChainLink } from './chain';

export const DAY_MS = 86_400_000;

/*
 * One retention run removes at most this many entries (one checkpoint each), so its DELETE stays
 * well inside D1's per-query time limit; the cron tick carries on where the last run stopped.
 */
export const RETENTION_MAX_ROWS = 10_000;

export type RetentionPlan = { start: ChainLink; upto: ChainLink; removed: number };

export type RetentionResult = {
  cutoff: string;
  removed: number;
  checkpoint: { upto_id: number; hash: string } | null;
  /** Entries older than the cutoff remain (the run stopped at RETENTION_MAX_ROWS). */
  more: boolean;
};

/** The cron's cutoff: whole UTC days, so the tick removes entries once a day, not every minute. */
export const dailyCutoff = (now: number, days: number) => Math.floor((now - days * DAY_MS) / DAY_MS) * DAY_MS;

/**
 * Which entries retention removes: a prefix of the chain, from the current start up to (not
 * including) the first entry at or after the cutoff, and never past the sealed head. Removing
 * only a prefix means the chain never gets a hole, even if a clock step made `at` go backwards.
 */
export async function planRetention(
  d1: D1Database,
  head: ChainLink,
  cutoffMs: number,
  maxRows = RETENTION_MAX_ROWS,
): Promise<RetentionPlan | null> {
  const start = await chainStart(d1);
  const limit = Math.min(head.id, start.id + maxRows);
  if (limit <= start.id) return null;
  // ORDER BY id LIMIT 1 walks the primary key from the start, which stops at the first recent entry.
  const keep = await d1
    .prepare('SELECT id FROM audit_log WHERE id > ? AND id <= ? AND at >= ? ORDER BY id LIMIT 1')
    .bind(start.id, limit, cutoffMs)
    .first<{ id: number }>();
  const upto = keep ? keep.id - 1 : limit;
  if (upto <= start.id) return null;
  const last = await d1
    .prepare('SELECT id, hash FROM audit_log WHERE id > ? AND id <= ? ORDER BY id DESC LIMIT 1')
    .bind(start.id, upto)
    .first<{ id: number; hash: string | null }>();
  if (!last || last.hash === null) return null;
  const n = await d1.prepare('SELECT count(*) AS n FROM audit_log WHERE id > ? AND id <= ?').bind(start.id, last.id).first<{ n: number }>();
  return { start, upto: { id: last.id, hash: last.hash }, removed: n?.n ?? 0 };
}

/**
 * Checks the entries about to be removed. Retention must not erase the evidence of tampering:
 * once removed, entries can no longer be verified, so a range that does not verify is kept.
 */
export async function verifyRemovable(d1: D1Database, plan: RetentionPlan): Promise<Findings> {
  const findings = new Findings();
  const { last } = await walkChain(d1, plan.start, plan.upto.id, findings);
  if (last.id !== plan.upto.id || last.hash !== plan.upto.hash) findings.add(plan.upto.id, 'the range changed while it was being checked');
  return findings;
}

/**
 * The checkpoint and the deletion, for one db.batch: the checkpoint is inserted first, and the
 * append-only trigger on audit_log lets a row go only if a checkpoint covers it.
 */
export function retentionStatements(db: DB, plan: RetentionPlan, reason: string) {
  return [
    db.insert(auditCheckpoints).values({ uptoId: plan.upto.id, hash: plan.upto.hash, removed: plan.removed, reason }),
    db.delete(auditLog).where(and(gt(auditLog.id, plan.start.id), lte(auditLog.id, plan.upto.id))),
  ] as const;
}

/** Whether entries older than the cutoff remain after `uptoId` within the sealed chain. */
export async function moreToRemove(d1: D1Database, uptoId: number, headId: number, cutoffMs: number): Promise<boolean> {
  if (uptoId >= headId) return false;
  const next = await d1.prepare('SELECT at FROM audit_log WHERE id > ? ORDER BY id LIMIT 1').bind(uptoId).first<{ at: number }>();
  return next !== null && next.at < cutoffMs;
}
