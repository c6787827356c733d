import { objectStub } from '../lib/stubs';

/** One event in a room's log: the room's own sequence number and what was published. */
export type RoomEvent = { seq: number; at: number; payload: Record<string, unknown> };

/** The realtime layer's counters: open connections and active rooms (gauges), messages in and out. */
export type RealtimeCounters = { connections: number; rooms: number; messages_in: number; messages_out: number };

/** A room (durable-objects/room.ts): its ordered event log and the hubs subscribed to it. */
export interface RoomRpc {
  /** Appends events (a `source` already in the log is skipped) and fans them out; returns the last seq. */
  publish(room: string, items: { source?: string | null; payload: Record<string, unknown> }[]): number;
  /** Subscribes a hub; returns the room's last seq. */
  subscribe(hub: string): number;
  unsubscribe(hub: string): void;
  since(after: number, limit: number): RoomEvent[];
  firstSeq(): number;
  lastSeq(): number;
  /** Named rooms' access list (the owner is implied): adds a user; false when the list is full. */
  grant(userId: number): boolean;
  /** Removes a user from the access list and stops delivering to their hub. */
  revoke(userId: number): void;
  admits(userId: number): boolean;
}

/** Users a named room's owner may admit besides themself. */
export const MAX_ROOM_MEMBERS = 1000;

/** A user's hub (durable-objects/user-hub.ts): their sockets, and their gateway to rooms. */
export interface HubRpc {
  deliver(room: string, events: RoomEvent[], hub: string): Promise<void>;
  /** A message on the user's own channel, to every socket of theirs; returns how many. */
  notify(payload: Record<string, unknown>): number;
  connectionCount(): number;
  /** The WebSocket upgrade, forwarded by the Worker after it authenticated the user. */
  fetch(request: Request): Promise<Response>;
}

/** The realtime counters object (durable-objects/realtime-stats.ts). */
export interface RealtimeStatsRpc {
  add(delta: Partial<RealtimeCounters>): void;
  read(): RealtimeCounters;
}

export const roomStub = (env: Env, room: string) => objectStub<RoomRpc>(env.ROOM, room);
export const hubStub = (env: Env, hub: string) => objectStub<HubRpc>(env.USER_HUB, hub);
export const statsStub = (env: Env) => objectStub<RealtimeStatsRpc>(env.REALTIME_STATS, 'realtime');
