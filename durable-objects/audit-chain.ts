import { DurableObject } from 'cloudflare:workers';
import { auditInsert, type RequestMeta } from '../src/lib/audit';
import {
  chainStart,
  computeSeals,
  hashOf,
  lastSealed,
  readEntries,
  verifyChain,
  writeSeals,
  type Anchor,
  type ChainLink,
  type VerifyResult,
} from '../src/audit/chain';
import { moreToRemove, planRetention, retentionStatements, verifyRemovable, type RetentionResult } from '../src/audit/retention';
import { getDb } from '../src/db/client';
import { log } from '../src/lib/log';
import type { AuditChainRpc, RetainOutcome, SealResult } from '../src/audit/rpc';

/** Entries hashed per D1 statement. */
const SEAL_BATCH = 200;
/** Entries sealed per call at most, so one call stays short; the rest waits for the next one. */
export const SEAL_MAX_ROWS = 5_000;

type HeadRow = {
  id: number;
  hash: string;
  pending_id: number | null;
  pending_hash: string | null;
  adopted_at: number | null;
  updated_at: number;
};

/**
 * AuditChain — one object for the whole service (`idFromName("audit")`): the only writer of
 * audit_log.prev_hash/hash. It seals entries in id order, verifies the chain and applies
 * retention.
 *
 * It must be a single writer because each hash depends on the one before: two sealers would read
 * the same head and chain two different successors onto it. An object runs one call at a time
 * only between awaits — D1 queries are I/O, and while one is in flight another RPC call may
 * start — so every operation runs through `exclusive()`, a promise chain that starts a call only
 * after the previous one has settled.
 *
 * State, in this object's SQLite storage (it survives eviction): the chain head (id and hash of
 * the last entry it sealed) and the retention checkpoints it made. They are the anchor outside
 * D1: someone able to rewrite D1 can recompute a consistent chain, cut its tail off, or add a
 * checkpoint and remove the entries it covers, but cannot move this head or add to this list, so
 * verification notices. Before writing seals to D1 the object records what it is about to write (`pending`);
 * if it is evicted between D1's answer and updating the head, the next call reads the entry back
 * and completes or drops the pending step, so the head never disagrees with a crash.
 */
export class AuditChain extends DurableObject<Env> implements AuditChainRpc {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS head (
      k INTEGER PRIMARY KEY CHECK (k = 1), id INTEGER NOT NULL, hash TEXT NOT NULL,
      pending_id INTEGER, pending_hash TEXT, adopted_at INTEGER, updated_at INTEGER NOT NULL)`);
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS checkpoints (upto_id INTEGER PRIMARY KEY, hash TEXT NOT NULL, committed INTEGER NOT NULL)',
    );
  }

  /** Seals pending entries (at most `maxRows`) and returns the new head. */
  seal(maxRows = SEAL_MAX_ROWS): Promise<SealResult> {
    return this.exclusive(() => this.sealNow(maxRows));
  }

  /** Seals what is pending, then verifies the retained chain against the head kept here. */
  verify(): Promise<VerifyResult> {
    return this.exclusive(async () => {
      await this.sealNow(SEAL_MAX_ROWS);
      await this.head();
      return verifyChain(this.env.DB, this.anchor()!, this.knownCheckpoint());
    });
  }

  /**
   * Removes sealed entries older than `cutoffMs` behind a checkpoint, in one D1 batch with its own
   * audit entry. Refused when the entries to remove do not verify. `auditNoop`: write the audit
   * entry even when nothing is removed (an admin's request is audited; an idle cron tick is not).
   */
  retain(cutoffMs: number, meta: RequestMeta, opts: { reason: string; auditNoop: boolean }): Promise<RetainOutcome> {
    return this.exclusive(async () => {
      await this.sealNow(SEAL_MAX_ROWS);
      const head = await this.head();
      const d1 = this.env.DB;
      const plan = await planRetention(d1, head, cutoffMs);
      if (plan) {
        const findings = await verifyRemovable(d1, plan);
        if (findings.first) return { ok: false, first_invalid: findings.first };
      }
      const result: RetentionResult = {
        cutoff: new Date(cutoffMs).toISOString(),
        removed: plan?.removed ?? 0,
        checkpoint: plan ? { upto_id: plan.upto.id, hash: plan.upto.hash } : null,
        more: plan ? await moreToRemove(d1, plan.upto.id, head.id, cutoffMs) : false,
      };
      if (!plan && !opts.auditNoop) return { ok: true, result };
      const db = getDb(d1);
      const audit = auditInsert(db, meta, {
        action: 'audit.retention',
        targetType: 'audit_log',
        details: { reason: opts.reason, ...result },
      });
      if (!plan) {
        await db.batch([audit]);
        return { ok: true, result };
      }
      // Recorded before the batch, confirmed after; head() settles it if the object dies in between.
      this.ctx.storage.sql.exec(
        'INSERT OR REPLACE INTO checkpoints (upto_id, hash, committed) VALUES (?, ?, 0)',
        plan.upto.id,
        plan.upto.hash,
      );
      await db.batch([...retentionStatements(db, plan, opts.reason), audit]);
      this.ctx.storage.sql.exec('UPDATE checkpoints SET committed = 1 WHERE upto_id = ?', plan.upto.id);
      return { ok: true, result };
    });
  }

  /** The head as stored here (null before the first call that touched the chain). */
  anchor(): Anchor | null {
    const row = this.stored();
    return row
      ? {
          id: row.id,
          hash: row.hash,
          updated_at: row.updated_at,
          adopted_at: row.adopted_at,
          checkpoint_upto_id: this.knownCheckpoint()?.id ?? null,
        }
      : null;
  }

  /** The latest checkpoint this object's retention made: the only kind verification accepts. */
  private knownCheckpoint(): ChainLink | null {
    return (
      this.ctx.storage.sql
        .exec<ChainLink>('SELECT upto_id AS id, hash FROM checkpoints WHERE committed = 1 ORDER BY upto_id DESC LIMIT 1')
        .toArray()[0] ?? null
    );
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private stored(): HeadRow | null {
    return (
      this.ctx.storage.sql
        .exec<HeadRow>('SELECT id, hash, pending_id, pending_hash, adopted_at, updated_at FROM head WHERE k = 1')
        .toArray()[0] ?? null
    );
  }

  private setHead(link: ChainLink, adoptedAt?: number | null) {
    this.ctx.storage.sql.exec(
      `INSERT INTO head (k, id, hash, adopted_at, updated_at) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT(k) DO UPDATE SET id = excluded.id, hash = excluded.hash, pending_id = NULL, pending_hash = NULL,
         adopted_at = coalesce(excluded.adopted_at, head.adopted_at), updated_at = excluded.updated_at`,
      link.id,
      link.hash,
      adoptedAt ?? null,
      Date.now(),
    );
  }

  /**
   * The current head. The first time (or if this object's storage were ever lost) it is taken
   * from D1 — the last sealed entry, else the latest checkpoint, else genesis — and, unless it
   * is genesis, marked `adopted_at`: from then on the anchor vouches only for what it has seen.
   */
  private async head(): Promise<ChainLink> {
    let row = this.stored();
    if (!row) {
      const d1 = this.env.DB;
      const [sealed, start] = await Promise.all([lastSealed(d1), chainStart(d1)]);
      const link = sealed && sealed.id > start.id ? sealed : start;
      if (link.id > 0) log(this.env.LOG_LEVEL, 'warn', 'audit chain anchor adopted from D1', link);
      if (start.id > 0)
        this.ctx.storage.sql.exec('INSERT OR REPLACE INTO checkpoints (upto_id, hash, committed) VALUES (?, ?, 1)', start.id, start.hash);
      this.setHead(link, link.id > 0 ? Date.now() : null);
      row = this.stored()!;
    }
    for (const cp of this.ctx.storage.sql.exec<ChainLink>('SELECT upto_id AS id, hash FROM checkpoints WHERE committed = 0').toArray()) {
      const landed = await this.env.DB.prepare('SELECT 1 AS ok FROM audit_checkpoints WHERE upto_id = ? AND hash = ?')
        .bind(cp.id, cp.hash)
        .first();
      if (landed) this.ctx.storage.sql.exec('UPDATE checkpoints SET committed = 1 WHERE upto_id = ?', cp.id);
      else this.ctx.storage.sql.exec('DELETE FROM checkpoints WHERE upto_id = ?', cp.id);
    }
    if (row.pending_id !== null && row.pending_hash !== null) {
      const pending = { id: row.pending_id, hash: row.pending_hash };
      if ((await hashOf(this.env.DB, pending.id)) === pending.hash) this.setHead(pending);
      else this.ctx.storage.sql.exec('UPDATE head SET pending_id = NULL, pending_hash = NULL WHERE k = 1');
      row = this.stored()!;
    }
    return { id: row.id, hash: row.hash };
  }

  private async sealNow(maxRows: number): Promise<SealResult> {
    const d1 = this.env.DB;
    let head = await this.head();
    let sealed = 0;
    let foreign: number | null = null;
    while (sealed < maxRows) {
      const want = Math.min(SEAL_BATCH, maxRows - sealed);
      const rows = await readEntries(d1, head.id, null, want);
      const batch = await computeSeals(head, rows);
      const last = batch.seals.at(-1);
      if (last) {
        this.ctx.storage.sql.exec('UPDATE head SET pending_id = ?, pending_hash = ? WHERE k = 1', last.id, last.hash);
        const changed = await writeSeals(d1, batch.seals);
        if (changed !== batch.seals.length) {
          // Something else sealed or removed entries in this range: settle the head from what D1 holds and stop.
          log(this.env.LOG_LEVEL, 'error', 'audit seal wrote fewer entries than computed', { expected: batch.seals.length, changed });
          head = await this.head();
          break;
        }
        this.setHead(last);
        head = { id: last.id, hash: last.hash };
        sealed += batch.seals.length;
      }
      if (batch.foreign !== null) {
        foreign = batch.foreign;
        log(this.env.LOG_LEVEL, 'error', 'audit entry after the anchored head already has a hash; sealing stops there', { id: foreign });
        break;
      }
      if (rows.length < want) break;
    }
    return { sealed, head, foreign_hash_at: foreign };
  }
}
