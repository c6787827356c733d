import { DurableObject } from 'cloudflare:workers';
import type {
  CounterUsage,
  HitAllResult,
  LimitResult,
  LockoutResult,
  LockoutSpec,
  RateLimiterRpc,
  WindowSpec,
  WindowState,
} from '../src/lib/limits';

/**
 * RateLimiter — one object per limited subject (`rl:user:42`, `rl:ip:203.0.113.9`,
 * `login:account:alice`), addressed with `idFromName(key)`, so every counter has exactly one
 * writer and counts are exact, unlike the Workers rate-limiting binding, which is approximate and
 * per-location.
 *
 * Windows are fixed, anchored at the first hit after the previous window ended. Within one
 * window no more than `limit` events are admitted, exactly; a client that spends a whole window's
 * quota at its very end and the next one's at its very start gets up to 2 × limit through in an
 * interval of one window length. That is the price of O(1) state per window: an exact sliding
 * log would store one timestamp per admitted event (20,000 of them for an hourly policy), and the
 * sliding-window *counter* (weighting the previous window) is an estimate, not a count.
 *
 * State: SQLite rows, one per counted window (`windows` for `hit`, keyed by window length;
 * `counters` for `hitAll`, keyed by policy name). SQLite-backed storage is durable, so counts
 * survive eviction; nothing lives only in memory. Each method runs its reads and writes
 * synchronously with no `await` in between, and a Durable Object runs one such turn at a time,
 * so concurrent callers can never both take the last slot. An alarm at the end of the longest
 * open window deletes what has expired, so objects for passing IPs do not keep storage forever.
 */
type CounterRow = { name: string; window_ms: number; started_at: number; count: number; refused: number };
type LockoutRow = { count: number; started_at: number; locked_until: number; locks: number; last_lock_at: number; expires_at: number };

export class RateLimiter extends DurableObject<Env> implements RateLimiterRpc {
  /** The alarm this instance has set, to skip setting it again; lost on eviction, which is harmless. */
  private alarmAt: number | null = null;

  /** Whether this instance has created its tables; reset when the alarm deletes all storage. */
  private ready = false;

  /*
   * Tables are created on first use rather than in the constructor, so that an object whose
   * storage the alarm deleted is not recreated just by being addressed again.
   */
  private get sql() {
    if (!this.ready) {
      this.ctx.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS windows (window_ms INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, count INTEGER NOT NULL)',
      );
      this.ctx.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, window_ms INTEGER NOT NULL, started_at INTEGER NOT NULL, count INTEGER NOT NULL, refused INTEGER NOT NULL)',
      );
      this.ctx.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS lockout (id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL, started_at INTEGER NOT NULL, locked_until INTEGER NOT NULL, locks INTEGER NOT NULL, last_lock_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)',
      );
      this.ready = true;
    }
    return this.ctx.storage.sql;
  }

  private current(windowMs: number, now: number): { startedAt: number; count: number } {
    const row = this.sql
      .exec<{ started_at: number; count: number }>('SELECT started_at, count FROM windows WHERE window_ms = ?', windowMs)
      .toArray()[0];
    if (!row || now - row.started_at >= windowMs) return { startedAt: now, count: 0 };
    return { startedAt: row.started_at, count: row.count };
  }

  /**
   * Counts `cost` events (one by default) against a fixed window of `windowMs`, all or none:
   * refused, and nothing counted, when they would take the window past `limit`.
   */
  hit(limit: number, windowMs: number, cost = 1): LimitResult {
    const now = Date.now();
    const w = this.current(windowMs, now);
    const allowed = w.count + cost <= limit;
    const count = allowed ? w.count + cost : w.count;
    this.sql.exec(
      'INSERT INTO windows (window_ms, started_at, count) VALUES (?, ?, ?) ON CONFLICT(window_ms) DO UPDATE SET started_at = excluded.started_at, count = excluded.count',
      windowMs,
      w.startedAt,
      count,
    );
    this.cleanUpAfter(w.startedAt + windowMs);
    return { allowed, limit, remaining: Math.max(0, limit - count), resetAt: w.startedAt + windowMs };
  }

  /**
   * Counts one request against every given window at once, all or nothing: when any window is
   * full, none is incremented (the full ones count a refusal instead), so a refused request never
   * uses up quota. A window whose length changed since it was last counted starts afresh.
   */
  hitAll(specs: WindowSpec[]): HitAllResult {
    const now = Date.now();
    const windows = specs.map((spec) => {
      const windowMs = spec.windowSeconds * 1000;
      const row = this.sql.exec<CounterRow>('SELECT * FROM counters WHERE name = ?', spec.name).toArray()[0];
      const live = row && row.window_ms === windowMs && now - row.started_at < windowMs;
      const startedAt = live ? row.started_at : now;
      const count = live ? row.count : 0;
      const refused = live ? row.refused : 0;
      return { spec, windowMs, startedAt, count, refused, full: count >= spec.limit };
    });
    const allowed = windows.every((w) => !w.full);
    const out: WindowState[] = [];
    for (const w of windows) {
      const count = allowed ? w.count + 1 : w.count;
      const refused = !allowed && w.full ? w.refused + 1 : w.refused;
      if (allowed || w.full) {
        this.sql.exec(
          'INSERT INTO counters (name, window_ms, started_at, count, refused) VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET window_ms = excluded.window_ms, started_at = excluded.started_at, count = excluded.count, refused = excluded.refused',
          w.spec.name,
          w.windowMs,
          w.startedAt,
          count,
          refused,
        );
      }
      const resetAt = w.startedAt + w.windowMs;
      this.cleanUpAfter(resetAt);
      out.push({
        ...w.spec,
        count,
        remaining: Math.max(0, w.spec.limit - count),
        resetAt,
        firstRefusal: !allowed && w.full && w.refused === 0,
        full: w.full,
      });
    }
    return { allowed, windows: out };
  }

  /**
   * Counts one sign-in attempt against a lockout: `limit` attempts per window, then the key is
   * locked; each lock within `memorySeconds` of the previous one lasts twice as long (one window,
   * two, four … at most `maxLockSeconds`). Attempts are counted before the password is checked,
   * so concurrent guesses cannot slip past the limit; a successful sign-in calls `reset`.
   */
  attempt(spec: LockoutSpec): LockoutResult {
    const now = Date.now();
    const windowMs = spec.windowSeconds * 1000;
    const row = this.sql.exec<LockoutRow>('SELECT * FROM lockout WHERE id = 1').toArray()[0];
    if (row && row.locked_until > now) return { allowed: false, remaining: 0, resetAt: row.locked_until, locks: row.locks };
    const live = row !== undefined && now - row.started_at < windowMs;
    let count = (live ? row.count : 0) + 1;
    let startedAt = live ? row.started_at : now;
    let locks = row && now - row.last_lock_at < spec.memorySeconds * 1000 ? row.locks : 0;
    let lockedUntil = 0;
    let lastLockAt = row?.last_lock_at ?? 0;
    if (count >= spec.limit) {
      locks += 1;
      lockedUntil = now + Math.min(windowMs * 2 ** (locks - 1), spec.maxLockSeconds * 1000);
      lastLockAt = now;
      count = 0;
      startedAt = now;
    }
    const expiresAt = Math.max(startedAt + windowMs, lockedUntil, lastLockAt + spec.memorySeconds * 1000);
    this.sql.exec(
      'INSERT INTO lockout (id, count, started_at, locked_until, locks, last_lock_at, expires_at) VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET count = excluded.count, started_at = excluded.started_at, locked_until = excluded.locked_until, locks = excluded.locks, last_lock_at = excluded.last_lock_at, expires_at = excluded.expires_at',
      count,
      startedAt,
      lockedUntil,
      locks,
      lastLockAt,
      expiresAt,
    );
    this.cleanUpAfter(expiresAt);
    return {
      allowed: true,
      remaining: lockedUntil ? 0 : spec.limit - count,
      resetAt: lockedUntil || startedAt + windowMs,
      locks,
    };
  }

  /** The live windows counted by `hitAll` (expired ones are left out: their count is zero). */
  usage(): CounterUsage[] {
    const now = Date.now();
    // Looking at a subject that was never counted must not create storage for it.
    const exists = this.ctx.storage.sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'counters'").toArray().length > 0;
    if (!exists) return [];
    return this.sql
      .exec<CounterRow>('SELECT * FROM counters WHERE started_at + window_ms > ? ORDER BY name', now)
      .toArray()
      .map((r) => ({
        name: r.name,
        windowSeconds: r.window_ms / 1000,
        count: r.count,
        refused: r.refused,
        startedAt: r.started_at,
        resetAt: r.started_at + r.window_ms,
      }));
  }

  /** Clears every window of this key (after a successful login, for instance). */
  reset(): void {
    this.sql.exec('DELETE FROM windows');
    this.sql.exec('DELETE FROM counters');
    this.sql.exec('DELETE FROM lockout');
  }

  /** Health probe: a storage round trip through this object. */
  probe(): { ok: boolean; at: number } {
    const at = Date.now();
    this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
    this.ctx.storage.sql.exec('INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET at = excluded.at', at);
    const read = this.ctx.storage.sql.exec<{ at: number }>('SELECT at FROM probe WHERE id = 1').one();
    return { ok: read.at === at, at };
  }

  /*
   * setAlarm is not awaited: a storage write issued inside this synchronous turn is committed
   * before the turn's result leaves the object (output gate), so it cannot be lost.
   */
  private cleanUpAfter(at: number) {
    if (this.alarmAt !== null && this.alarmAt >= at) return;
    this.alarmAt = at;
    void this.ctx.storage.setAlarm(at);
  }

  /** Deletes expired windows; once nothing is left the object's storage is removed entirely. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmAt = null;
    const sql = this.sql;
    sql.exec('DELETE FROM windows WHERE started_at + window_ms <= ?', now);
    sql.exec('DELETE FROM counters WHERE started_at + window_ms <= ?', now);
    sql.exec('DELETE FROM lockout WHERE expires_at <= ?', now);
    const next = sql
      .exec<{ at: number | null }>(
        'SELECT max(at) AS at FROM (SELECT started_at + window_ms AS at FROM windows UNION ALL SELECT started_at + window_ms AS at FROM counters UNION ALL SELECT expires_at AS at FROM lockout)',
      )
      .one().at;
    const probe = sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'probe'").one().n;
    if (next !== null) this.cleanUpAfter(next);
    else if (probe === 0) {
      await this.ctx.storage.deleteAll();
      this.ready = false;
    }
  }
}
