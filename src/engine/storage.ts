import type { DomainEvent } from '../lib/events';
import type { NodeRecord, RunEvent, RunMeta } from './types';

export type OutboxEntry =
  | { kind: 'run' }
  | { kind: 'node'; nodeId: string }
  | { kind: 'attempt'; attempt: AttemptRow }
  /** A node's document as it was produced: version 1, then one version per later loop iteration. */
  | { kind: 'document'; nodeId: string; version?: number; title?: string; text?: string; by?: number }
  | { kind: 'event'; event: DomainEvent };

export type AttemptRow = {
  nodeId: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'interrupted' | 'cancelled';
  startedAt: number;
  finishedAt: number;
  delayMs: number;
  error: string | null;
  retryable: boolean | null;
  provider: string | null;
  model: string | null;
  tokensIn: number;
  tokensOut: number;
  /** Null when the price was unknown; absent in rows stored before costs were kept. */
  costUsd?: number | null;
};

/**
 * The run's state in its Durable Object's SQLite storage. Every method is synchronous: the
 * storage API is, and a Durable Object never runs two turns at once, so a method's reads and
 * writes can never interleave with another request's. Writes are durable once the turn's
 * output gate opens, before any response or RPC result leaves the object.
 */
export class RunStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS nodes (id TEXT PRIMARY KEY, rec TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, node_id TEXT, at INTEGER NOT NULL, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, k TEXT, payload TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS items (node_id TEXT NOT NULL, idx INTEGER NOT NULL, item TEXT NOT NULL, rec TEXT NOT NULL, PRIMARY KEY (node_id, idx));
      CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL, taken_by TEXT);`);
  }

  meta(): RunMeta | null {
    const row = this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'run'").toArray()[0];
    return row ? (JSON.parse(row.v) as RunMeta) : null;
  }

  saveMeta(meta: RunMeta): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES ('run', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v", JSON.stringify(meta));
    this.enqueue({ kind: 'run' });
  }

  /** Small named values beside the run's meta (for example how far events were published). */
  getValue(key: string): string | null {
    return this.sql.exec<{ v: string }>('SELECT v FROM meta WHERE k = ?', key).toArray()[0]?.v ?? null;
  }

  setValue(key: string, value: string): void {
    this.sql.exec('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v', key, value);
  }

  deleteValue(key: string): void {
    this.sql.exec('DELETE FROM meta WHERE k = ?', key);
  }

  nodes(): Map<string, NodeRecord> {
    const out = new Map<string, NodeRecord>();
    for (const row of this.sql.exec<{ id: string; rec: string }>('SELECT id, rec FROM nodes'))
      out.set(row.id, JSON.parse(row.rec) as NodeRecord);
    return out;
  }

  saveNode(rec: NodeRecord): void {
    this.sql.exec(
      'INSERT INTO nodes (id, rec) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET rec = excluded.rec',
      rec.id,
      JSON.stringify(rec),
    );
    this.enqueue({ kind: 'node', nodeId: rec.id });
  }

  /** A map node's items: each one's value (fixed when the map starts) and its record. */
  items(nodeId: string): { item: unknown; rec: NodeRecord }[] {
    return this.sql
      .exec<{ item: string; rec: string }>('SELECT item, rec FROM items WHERE node_id = ? ORDER BY idx', nodeId)
      .toArray()
      .map((r) => ({ item: JSON.parse(r.item) as unknown, rec: JSON.parse(r.rec) as NodeRecord }));
  }

  addItems(nodeId: string, items: { item: unknown; rec: NodeRecord }[]): void {
    items.forEach(({ item, rec }, idx) => {
      this.sql.exec(
        'INSERT INTO items (node_id, idx, item, rec) VALUES (?, ?, ?, ?)',
        nodeId,
        idx,
        JSON.stringify(item),
        JSON.stringify(rec),
      );
    });
  }

  saveItem(nodeId: string, idx: number, rec: NodeRecord): void {
    this.sql.exec('UPDATE items SET rec = ? WHERE node_id = ? AND idx = ?', JSON.stringify(rec), nodeId, idx);
  }

  deleteItems(nodeId: string): void {
    this.sql.exec('DELETE FROM items WHERE node_id = ?', nodeId);
  }

  /** Events sent to the run (wait_for_event), kept until a node takes them. */
  storeEvent(name: string, payload: unknown): void {
    this.sql.exec('INSERT INTO inbox (name, payload, at) VALUES (?, ?, ?)', name, JSON.stringify(payload), Date.now());
  }

  waitingEvents(): number {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM inbox WHERE taken_by IS NULL').one().n;
  }

  /** The oldest event of that name no node has taken yet, now taken by `nodeId`; null when there is none. */
  takeEvent(name: string, nodeId: string): { payload: unknown; at: number } | null {
    const row = this.sql
      .exec<{ seq: number; payload: string; at: number }>(
        'SELECT seq, payload, at FROM inbox WHERE name = ? AND taken_by IS NULL ORDER BY seq LIMIT 1',
        name,
      )
      .toArray()[0];
    if (!row) return null;
    this.sql.exec('UPDATE inbox SET taken_by = ? WHERE seq = ?', nodeId, row.seq);
    return { payload: JSON.parse(row.payload) as unknown, at: row.at };
  }

  appendEvent(type: string, nodeId: string | null, data: Record<string, unknown>): RunEvent {
    const at = Date.now();
    const seq = (this.sql.exec<{ s: number | null }>('SELECT max(seq) AS s FROM events').one().s ?? 0) + 1;
    this.sql.exec('INSERT INTO events (seq, type, node_id, at, data) VALUES (?, ?, ?, ?, ?)', seq, type, nodeId, at, JSON.stringify(data));
    return { seq, type, at, node_id: nodeId, data };
  }

  events(after: number, limit: number): RunEvent[] {
    return this.sql
      .exec<{ seq: number; type: string; node_id: string | null; at: number; data: string }>(
        'SELECT seq, type, node_id, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
        after,
        limit,
      )
      .toArray()
      .map((r) => ({ seq: r.seq, type: r.type, at: r.at, node_id: r.node_id, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  lastSeq(): number {
    return this.sql.exec<{ s: number | null }>('SELECT max(seq) AS s FROM events').one().s ?? 0;
  }

  /**
   * The run's outbox: its D1 projection and its domain events, in the order they happened.
   * Snapshot entries (the run row, a node row) are coalesced: only the newest matters, since each
   * is written from the current state when flushed. An entry is written in the same storage turn
   * as the change it reports, so the two are durable together.
   */
  enqueue(entry: OutboxEntry): void {
    const key = entry.kind === 'node' || entry.kind === 'document' ? `${entry.kind}:${entry.nodeId}` : entry.kind === 'run' ? 'run' : null;
    if (key && entry.kind !== 'document') this.sql.exec('DELETE FROM outbox WHERE k = ?', key);
    this.sql.exec('INSERT INTO outbox (kind, k, payload) VALUES (?, ?, ?)', entry.kind, key, JSON.stringify(entry));
  }

  pending(limit: number): { id: number; entry: OutboxEntry }[] {
    return this.sql
      .exec<{ id: number; payload: string }>('SELECT id, payload FROM outbox ORDER BY id LIMIT ?', limit)
      .toArray()
      .map((r) => ({ id: r.id, entry: JSON.parse(r.payload) as OutboxEntry }));
  }

  hasPending(): boolean {
    return this.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n > 0;
  }

  acknowledge(ids: number[]): void {
    if (ids.length) this.sql.exec(`DELETE FROM outbox WHERE id IN (${ids.map(() => '?').join(',')})`, ...ids);
  }
}
