import { z } from 'zod';
import { jsonObject } from '../lib/json';

export const MAX_FRAME_BYTES = 16 * 1024;
/** Per connection: a bucket of 20 messages refilled at 10 per second. */
export const RATE_BURST = 20;
export const RATE_PER_SECOND = 10;

const RoomName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, "_" and "-", at most 64 characters');
const After = z.number().int().min(0).optional();
const UserId = z.number().int().positive();
/** Whose room: named rooms belong to the user who named them; absent means your own. */
const OwnerId = UserId.optional();

/** Frames a client may send. Anything else gets an error frame, not a disconnect. */
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('join_workflow'), workflow_id: z.coerce.number().int().positive(), after: After }),
  z.object({ type: z.literal('leave_workflow'), workflow_id: z.coerce.number().int().positive() }),
  z.object({ type: z.literal('join_room'), room: RoomName, owner_id: OwnerId, after: After }),
  z.object({ type: z.literal('leave_room'), room: RoomName, owner_id: OwnerId }),
  z.object({ type: z.literal('publish'), room: RoomName, owner_id: OwnerId, data: jsonObject() }),
  z.object({ type: z.literal('grant_room'), room: RoomName, user_id: UserId }),
  z.object({ type: z.literal('revoke_room'), room: RoomName, user_id: UserId }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/**
 * What a hibernating socket remembers: its owner, the session or API key it was opened with
 * (re-checked while it is open), rooms with the last seq sent, its rate bucket.
 */
export const Attachment = z.object({
  connId: z.string(),
  label: z.string().nullable(),
  userId: z.number().int(),
  sessionId: z.string().nullable().default(null),
  apiKeyId: z.number().int().nullable().default(null),
  /** Set when the server closed it (credential ended): its cleanup has run. */
  ended: z.boolean().default(false),
  rooms: z.record(z.string(), z.number().int()),
  tokens: z.number(),
  refilledAt: z.number(),
});
export type Attachment = z.infer<typeof Attachment>;

export const workflowRoom = (id: number) => `workflow:${id}`;
/**
 * A named room is its owner's: `lobby` of user 7 is `room:7:lobby`, and user 8's `lobby` is
 * another room. Others join it only when the owner granted them (the room's access list).
 */
export const namedRoom = (ownerId: number, name: string) => `room:${ownerId}:${name}`;
export const userChannel = (userId: number) => `user:${userId}`;
