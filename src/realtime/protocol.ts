import { z } from 'zod';
import type { Room } from '../../durable-objects/room';
import type { UserHub } from '../../durable-objects/user-hub';

/** One event in a room's log: the room's own sequence number and what was published. */
export type RoomEvent = { seq: number; at: number; payload: Record<string, unknown> };

export const MAX_FRAME_BYTES = 16 * 1024;
/** Per connection: a bucket of 20 messages refilled at 10 per second. */
export const RATE_BURST = 20;
export const RATE_PER_SECOND = 10;

const RoomName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, "_" and "-", at most 64 characters');
const After = z.number().int().min(0).optional();

/** Frames a client may send. Anything else gets an error frame, not a disconnect. */
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('join_workflow'), workflow_id: z.coerce.number().int().positive(), after: After }),
  z.object({ type: z.literal('leave_workflow'), workflow_id: z.coerce.number().int().positive() }),
  z.object({ type: z.literal('join_room'), room: RoomName, after: After }),
  z.object({ type: z.literal('leave_room'), room: RoomName }),
  z.object({ type: z.literal('publish'), room: RoomName, data: z.record(z.string(), z.unknown()) }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** What a hibernating socket remembers: its owner, rooms with the last seq sent, its rate bucket. */
export const Attachment = z.object({
  connId: z.string(),
  label: z.string().nullable(),
  userId: z.number().int(),
  rooms: z.record(z.string(), z.number().int()),
  tokens: z.number(),
  refilledAt: z.number(),
});
export type Attachment = z.infer<typeof Attachment>;

export const workflowRoom = (id: number) => `workflow:${id}`;
export const namedRoom = (name: string) => `room:${name}`;
export const userChannel = (userId: number) => `user:${userId}`;

/*
 * Typed stubs. Workers' generated RPC types turn methods whose values contain `unknown` (event
 * payloads are arbitrary JSON) into `never`; these declare the classes' own signatures instead.
 * Values cross by structured clone, which carries every JSON value.
 */
type Rpc<T, K extends keyof T> = { [P in K]: T[P] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };
export type RoomRpc = Rpc<Room, 'publish' | 'subscribe' | 'unsubscribe' | 'since' | 'firstSeq' | 'lastSeq'>;
export type HubRpc = Rpc<UserHub, 'deliver' | 'notify' | 'connectionCount'> & { fetch: (request: Request) => Promise<Response> };

export const roomStub = (env: Env, room: string) => env.ROOM.get(env.ROOM.idFromName(room)) as unknown as RoomRpc;
export const hubStub = (env: Env, hub: string) => env.USER_HUB.get(env.USER_HUB.idFromName(hub)) as unknown as HubRpc;
export const statsStub = (env: Env) => env.REALTIME_STATS.get(env.REALTIME_STATS.idFromName('realtime'));
