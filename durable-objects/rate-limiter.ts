import { DurableObject } from 'cloudflare:workers';

/**
 * RateLimiter — one object per limited key (for example `login:account:alice`), addressed with
 * `idFromName(key)`, so every counter has exactly one writer and counts are exact, unlike the
 * Workers rate-limiting binding, which is approximate and per-location.
 *
 * State: one row per window length in the object's SQLite storage. SQLite-backed storage is
 * durable, so counts survive eviction; nothing is held only in memory. Each method runs its
 * reads and writes synchronously with no `await` in between, and a Durable Object runs one
 * such turn at a time, so concurrent callers can never both take the last slot.
 */
export type LimitResult = { allowed: boolean; limit: number; remaining: number; resetAt: number };

export class RateLimiter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS windows (window_ms INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL)',
    );
  }

  private current(windowMs: number, now: number): { startedAt: number; count: number } {
    const row = this.ctx.storage.sql
      .exec<{ started_at: number; count: number }>('SELECT started_at, count FROM windows WHERE window_ms = ?', windowMs)
      .toArray()[0];
    if (!row || now - row.started_at >= windowMs) return { startedAt: now, count: 0 };
    return { startedAt: row.started_at, count: row.count };
  }

  /** Counts one event against a fixed window of `windowMs`; refused once `limit` is reached. */
  hit(limit: number, windowMs: number): LimitResult {
    const now = Date.now();
    const w = this.current(windowMs, now);
    const allowed = w.count < limit;
    const count = allowed ? w.count + 1 : w.count;
    this.ctx.storage.sql.exec(
      'INSERT INTO windows (window_ms, started_at, count) VALUES (?, ?, ?) ON CONFLICT(window_ms) DO UPDATE SET started_at = excluded.started_at, count = excluded.count',
      windowMs,
      w.startedAt,
      count,
    );
    return { allowed, limit, remaining: Math.max(0, limit - count), resetAt: w.startedAt + windowMs };
  }

  /** Clears every window of this key (after a successful login, for instance). */
  reset(): void {
    this.ctx.storage.sql.exec('DELETE FROM windows');
  }

  /** Health probe: a storage round trip through this object. */
  probe(): { ok: boolean; at: number } {
    const at = Date.now();
    this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
    this.ctx.storage.sql.exec('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at', at);
    const read = this.ctx.storage.sql.exec<{ at: number }>('SELECT at FROM probe WHERE id = 1').one();
    return { ok: read.at === at, at };
  }
}
