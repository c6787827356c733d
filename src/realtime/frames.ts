import { getDb } from '../db/client';
import { ClientFrame, namedRoom, userChannel, workflowRoom, type Attachment } from './protocol';
import { MAX_ROOM_MEMBERS, roomStub, type RoomEvent } from './rpc';
import { getWorkflow } from '../workflows';

/** What frame handling needs from the hub object; the hub implements it. */
export interface HubContext {
  readonly bindings: Env;
  readonly replaying: Map<string, RoomEvent[]>;
  attachment(ws: WebSocket): Attachment | null;
  /** Persists a socket's attachment (it survives hibernation); the only way attachments change. */
  saveAttachment(ws: WebSocket, att: Attachment): void;
  forward(ws: WebSocket, att: Attachment, room: string, events: RoomEvent[]): Promise<void>;
  count(direction: 'in' | 'out', n?: number): void;
}

const REPLAY_PAGE = 500;

export function sendFrame(hub: HubContext, ws: WebSocket, frame: Record<string, unknown>): void {
  sendText(hub, ws, JSON.stringify(frame));
}

/** Sends an already serialised frame. */
export function sendText(hub: HubContext, ws: WebSocket, text: string): void {
  try {
    // send() does not wait for the client: a slow reader delays nobody else.
    ws.send(text);
    hub.count('out');
  } catch {
    // The socket closed between the check and the send; its close handler cleans up.
  }
}

const error = (hub: HubContext, ws: WebSocket, code: string, message: string, details?: unknown) =>
  sendFrame(hub, ws, { type: 'error', code, message, ...(details === undefined ? {} : { details }) });

/** Validates and handles one client frame. Bad frames get an error frame; the socket stays open. */
export async function handleFrame(hub: HubContext, ws: WebSocket, text: string): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return error(hub, ws, 'bad_frame', 'frames must be JSON objects');
  }
  const parsed = ClientFrame.safeParse(json);
  if (!parsed.success) {
    return error(
      hub,
      ws,
      'bad_frame',
      'unrecognised frame',
      parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    );
  }
  const frame = parsed.data;
  const att = hub.attachment(ws);
  if (!att) return;
  switch (frame.type) {
    case 'ping':
      return sendFrame(hub, ws, { type: 'pong', time: new Date().toISOString() });
    case 'join_workflow': {
      // Existence is not disclosed: another user's workflow and a missing one are refused alike.
      const workflow = await getWorkflow(getDb(hub.bindings.DB), att.userId, frame.workflow_id);
      if (!workflow) return error(hub, ws, 'forbidden', `workflow ${frame.workflow_id} is not one you can read`);
      return join(hub, ws, workflowRoom(frame.workflow_id), frame.after);
    }
    case 'leave_workflow':
      return leave(hub, ws, workflowRoom(frame.workflow_id));
    case 'join_room': {
      const owner = frame.owner_id ?? att.userId;
      const room = namedRoom(owner, frame.room);
      if (!(await mayUse(hub, att, owner, room))) return error(hub, ws, 'forbidden', notAdmitted(frame.room, owner));
      return join(hub, ws, room, frame.after);
    }
    case 'leave_room':
      return leave(hub, ws, namedRoom(frame.owner_id ?? att.userId, frame.room));
    case 'publish': {
      const owner = frame.owner_id ?? att.userId;
      const room = namedRoom(owner, frame.room);
      if (att.rooms[room] === undefined) return error(hub, ws, 'forbidden', `join ${frame.room} before publishing to it`);
      // Checked again: the owner may have revoked this member since it joined.
      if (!(await mayUse(hub, att, owner, room))) return error(hub, ws, 'forbidden', notAdmitted(frame.room, owner));
      const seq = await roomStub(hub.bindings, room).publish(room, [
        { payload: { type: 'message', from_user_id: att.userId, data: frame.data } },
      ]);
      return sendFrame(hub, ws, { type: 'published', room, seq });
    }
    case 'grant_room':
    case 'revoke_room': {
      // Only on your own rooms: the owner is the sender, never a field of the frame.
      const room = namedRoom(att.userId, frame.room);
      const stub = roomStub(hub.bindings, room);
      if (frame.type === 'revoke_room') {
        await stub.revoke(frame.user_id);
        return sendFrame(hub, ws, { type: 'revoked', room, user_id: frame.user_id });
      }
      if (frame.user_id !== att.userId && !(await stub.grant(frame.user_id)))
        return error(hub, ws, 'too_large', `a room admits at most ${MAX_ROOM_MEMBERS} users besides its owner`);
      return sendFrame(hub, ws, { type: 'granted', room, user_id: frame.user_id });
    }
  }
}

/** The owner always; anyone else only while on the room's access list. */
async function mayUse(hub: HubContext, att: Attachment, owner: number, room: string): Promise<boolean> {
  return owner === att.userId || (await roomStub(hub.bindings, room).admits(att.userId));
}

// The same answer for a room that does not exist and one you were not granted.
const notAdmitted = (name: string, owner: number) => `room ${name} of user ${owner} is not one you have been granted`;

/**
 * Joins a room. With `after`, the events after it are replayed from the room's log first; live
 * events that arrive meanwhile are held back and sent after the replay, so the client gets every
 * sequence number once, in order. Without `after`, only events from now on are sent.
 */
async function join(hub: HubContext, ws: WebSocket, room: string, after: number | undefined): Promise<void> {
  const att = hub.attachment(ws)!;
  const key = `${att.connId}|${room}`;
  const stub = roomStub(hub.bindings, room);
  hub.replaying.set(key, []);
  try {
    att.rooms[room] = after ?? 0;
    hub.saveAttachment(ws, att);
    const last = await stub.subscribe(userChannel(att.userId));
    let cursor = after ?? last;
    const fresh = hub.attachment(ws);
    if (!fresh || fresh.rooms[room] === undefined) return;
    fresh.rooms[room] = cursor;
    hub.saveAttachment(ws, fresh);
    const first = after !== undefined ? await stub.firstSeq() : 0;
    sendFrame(hub, ws, {
      type: 'joined',
      room,
      last_seq: last,
      ...(after !== undefined && first > after + 1 ? { truncated_before: first } : {}),
    });
    while (after !== undefined) {
      const page = await stub.since(cursor, REPLAY_PAGE);
      if (page.length === 0) break;
      await hub.forward(ws, hub.attachment(ws)!, room, page);
      cursor = page.at(-1)!.seq;
      if (page.length < REPLAY_PAGE) break;
    }
    const held = hub.replaying.get(key) ?? [];
    hub.replaying.delete(key);
    const now = hub.attachment(ws);
    if (held.length && now) await hub.forward(ws, now, room, held);
  } finally {
    hub.replaying.delete(key);
  }
}

async function leave(hub: HubContext, ws: WebSocket, room: string): Promise<void> {
  const att = hub.attachment(ws)!;
  if (att.rooms[room] === undefined || room.startsWith('user:'))
    return sendFrame(hub, ws, { type: 'error', code: 'not_joined', message: `not in ${room}` });
  delete att.rooms[room];
  hub.saveAttachment(ws, att);
  sendFrame(hub, ws, { type: 'left', room });
}
