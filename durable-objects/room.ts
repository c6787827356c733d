import { DurableObject } from 'cloudflare:workers';
import { log } from '../src/lib/log';
import { userChannel } from '../src/realtime/protocol';
import { hubStub, MAX_ROOM_MEMBERS, statsStub, type RoomEvent, type RoomRpc } from '../src/realtime/rpc';

/**
 * Room — one object per room (`idFromName(room)`: `workflow:<id>` for a workflow's run events,
 * `room:<owner id>:<name>` for named rooms). It owns the room's ordered event log, its
 * subscribers and, for a named room, its access list: the users its owner admitted (the owner is
 * implied; the hub checks it, since only the hub knows who is asking).
 *
 * Why a single writer: the room assigns each event its sequence number, so every subscriber
 * sees the same events in the same order and a client can say "I have everything up to N".
 * Publishing is idempotent per source key (a run event is `run:<id>:<seq>`), so a publisher that
 * retries after a failure cannot create duplicates.
 *
 * Subscribers are user hubs (`UserHub`, where the WebSockets live), not sockets: the room fans
 * out one call per hub, the hub to its sockets. Calls go through one cached stub per hub, and
 * Durable Object calls from one stub arrive in order; hubs also check sequence numbers and fetch
 * any gap from `since()`, so delivery stays gap-free even across evictions.
 *
 * What survives eviction: the log (the newest RETAIN events), the subscriber list and the access
 * list, all in SQLite storage. The stub cache is memory only and is rebuilt on demand.
 */
const RETAIN = 5000;

export class Room extends DurableObject<Env> implements RoomRpc {
  private readonly hubs = new Map<string, ReturnType<typeof hubStub>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, source TEXT UNIQUE, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS subscribers (hub TEXT PRIMARY KEY, since INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS members (user_id INTEGER PRIMARY KEY, granted_at INTEGER NOT NULL);`);
  }

  /** Appends events (skipping sources already in the log) and fans them out. Returns the last seq. */
  publish(room: string, items: { source?: string | null; payload: Record<string, unknown> }[]): number {
    const added: RoomEvent[] = [];
    let seq = this.lastSeq();
    for (const item of items) {
      const at = Date.now();
      // A source already in the log inserts nothing (UNIQUE), which is how a repeat is skipped.
      const cursor = this.ctx.storage.sql.exec(
        'INSERT INTO events (seq, at, source, payload) VALUES (?, ?, ?, ?) ON CONFLICT(source) DO NOTHING',
        seq + 1,
        at,
        item.source ?? null,
        JSON.stringify(item.payload),
      );
      if (cursor.rowsWritten === 0) continue;
      seq += 1;
      added.push({ seq, at, payload: item.payload });
    }
    if (added.length === 0) return seq;
    this.ctx.storage.sql.exec('DELETE FROM events WHERE seq <= ?', seq - RETAIN);
    for (const { hub } of this.ctx.storage.sql.exec<{ hub: string }>('SELECT hub FROM subscribers')) {
      let stub = this.hubs.get(hub);
      if (!stub) this.hubs.set(hub, (stub = hubStub(this.env, hub)));
      this.ctx.waitUntil(
        stub.deliver(room, added, hub).catch((err: unknown) => {
          // The hub fetches what it missed from `since()` when it next sees this room.
          log(this.env.LOG_LEVEL, 'warn', 'room delivery failed', { room, hub, error: err instanceof Error ? err.message : String(err) });
        }),
      );
    }
    return seq;
  }

  subscribe(hub: string): number {
    const before = this.subscriberCount();
    this.ctx.storage.sql.exec('INSERT INTO subscribers (hub, since) VALUES (?, ?) ON CONFLICT(hub) DO NOTHING', hub, Date.now());
    if (before === 0 && this.subscriberCount() === 1) this.ctx.waitUntil(statsStub(this.env).add({ rooms: 1 }));
    return this.lastSeq();
  }

  unsubscribe(hub: string): void {
    const before = this.subscriberCount();
    this.ctx.storage.sql.exec('DELETE FROM subscribers WHERE hub = ?', hub);
    this.hubs.delete(hub);
    if (before > 0 && this.subscriberCount() === 0) this.ctx.waitUntil(statsStub(this.env).add({ rooms: -1 }));
  }

  since(after: number, limit: number): RoomEvent[] {
    return this.ctx.storage.sql
      .exec<{ seq: number; at: number; payload: string }>(
        'SELECT seq, at, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
        after,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, at: r.at, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  }

  /** The oldest sequence number still in the log (older ones were dropped by retention). */
  firstSeq(): number {
    return this.ctx.storage.sql.exec<{ s: number | null }>('SELECT min(seq) AS s FROM events').one().s ?? this.lastSeq() + 1;
  }

  lastSeq(): number {
    return this.ctx.storage.sql.exec<{ s: number | null }>('SELECT max(seq) AS s FROM events').one().s ?? 0;
  }

  grant(userId: number): boolean {
    const sql = this.ctx.storage.sql;
    if (this.admits(userId)) return true;
    if (sql.exec<{ n: number }>('SELECT count(*) AS n FROM members').one().n >= MAX_ROOM_MEMBERS) return false;
    sql.exec('INSERT INTO members (user_id, granted_at) VALUES (?, ?)', userId, Date.now());
    return true;
  }

  revoke(userId: number): void {
    this.ctx.storage.sql.exec('DELETE FROM members WHERE user_id = ?', userId);
    this.unsubscribe(userChannel(userId));
  }

  admits(userId: number): boolean {
    return this.ctx.storage.sql.exec('SELECT 1 FROM members WHERE user_id = ?', userId).toArray().length > 0;
  }

  private subscriberCount(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM subscribers').one().n;
  }
}
