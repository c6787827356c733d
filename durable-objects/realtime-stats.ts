import { DurableObject } from 'cloudflare:workers';
import type { RealtimeCounters, RealtimeStatsRpc } from '../src/realtime/rpc';

/**
 * RealtimeStats — one object (`idFromName("realtime")`) holding the realtime layer's counters:
 * open connections and active rooms (gauges) and messages in and out (counters). Every hub and
 * room object reports deltas here, so the totals are counted across all of them rather than
 * guessed from one isolate. A single writer makes each `add` exact; the counts live in SQLite
 * storage and survive eviction. Reports are batched by the reporters (at most one call per
 * object per second for message counts), so this object is not on the hot path of a message.
 */
const NAMES = ['connections', 'rooms', 'messages_in', 'messages_out'] as const;

export class RealtimeStats extends DurableObject<Env> implements RealtimeStatsRpc {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)');
  }

  add(delta: Partial<RealtimeCounters>): void {
    for (const name of NAMES) {
      const d = delta[name];
      if (!d) continue;
      this.ctx.storage.sql.exec(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value',
        name,
        d,
      );
    }
  }

  read(): RealtimeCounters {
    const out: RealtimeCounters = { connections: 0, rooms: 0, messages_in: 0, messages_out: 0 };
    for (const row of this.ctx.storage.sql.exec<{ name: string; value: number }>('SELECT name, value FROM counters')) {
      if ((NAMES as readonly string[]).includes(row.name)) out[row.name as keyof RealtimeCounters] = row.value;
    }
    return out;
  }
}
