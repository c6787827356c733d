import { DurableObject } from 'cloudflare:workers';
import { handleFrame, sendFrame, sendText, type HubContext } from '../src/realtime/frames';
import { Attachment, MAX_FRAME_BYTES, RATE_BURST, RATE_PER_SECOND, userChannel } from '../src/realtime/protocol';
import { roomStub, statsStub, type HubRpc, type RoomEvent } from '../src/realtime/rpc';
import { endedSockets, RECHECK_MS } from '../src/realtime/credentials';

/**
 * UserHub — one object per user (`idFromName("user:<id>")`), holding every WebSocket that user
 * has open. It is the user's own channel (notifications for them go here) and their gateway to
 * rooms: joining a room subscribes this hub to the room object, which then delivers each new
 * event once per hub; the hub forwards it to the user's sockets that joined that room.
 *
 * Sockets use the hibernation API (`ctx.acceptWebSocket`): the object can be evicted while
 * connections stay open, and each socket's attachment (its user, rooms with the last sequence
 * number sent, its rate bucket) survives that. The attachment is the only per-socket state, so
 * nothing the hub needs lives only in memory — except replay buffers, which exist only while a
 * join is replaying (the object is active then, so they cannot be lost to hibernation).
 *
 * Identity comes from the Worker, whose guard authenticated the upgrade before forwarding it
 * here; the seeds' `user_id` query parameter is never read. The session or API key the socket was
 * opened with is kept in its attachment and re-checked by an alarm every few seconds while any
 * socket is open, so ending that session or revoking that key closes the socket.
 */
const STATS_FLUSH_MS = 1000;
const ATTACHMENT_SAVE_MS = 100;

/**
 * An event's frame is the same for every socket in the room, so it is serialised once per event
 * object (a delivery hands the same objects to every socket), not once per socket.
 */
const frames = new WeakMap<RoomEvent, string>();
function eventFrame(room: string, e: RoomEvent): string {
  let text = frames.get(e);
  if (text === undefined) frames.set(e, (text = JSON.stringify({ type: 'event', room, seq: e.seq, at: e.at, event: e.payload })));
  return text;
}

export class UserHub extends DurableObject<Env> implements HubContext, HubRpc {
  /** Live events that arrive for a (socket, room) while that join is still replaying. */
  readonly replaying = new Map<string, RoomEvent[]>();
  private pendingIn = 0;
  private pendingOut = 0;
  private statsTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Parsed attachments of this instance's sockets. The serialized attachment stays the truth (it
   * is what survives hibernation); this only saves a deserialize and a zod parse per socket per
   * delivery, which profiling showed as most of a fan-out's CPU. Every write goes through
   * `saveAttachment`, which updates both.
   */
  private readonly attachments = new WeakMap<WebSocket, Attachment>();
  private readonly unsaved = new Set<WebSocket>();
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  override async fetch(request: Request): Promise<Response> {
    const userId = Number(request.headers.get('x-dwc-user-id'));
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket' || !Number.isInteger(userId)) {
      return new Response('expected an authenticated WebSocket upgrade from the Worker', { status: 400 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    const keyId = request.headers.get('x-dwc-api-key-id');
    const attachment: Attachment = {
      connId: crypto.randomUUID(),
      label: request.headers.get('x-dwc-connection-label'),
      userId,
      sessionId: request.headers.get('x-dwc-session-id'),
      apiKeyId: keyId === null ? null : Number(keyId),
      ended: false,
      rooms: { [userChannel(userId)]: 0 },
      tokens: RATE_BURST,
      refilledAt: Date.now(),
    };
    this.ctx.acceptWebSocket(server);
    this.saveAttachment(server, attachment);
    sendFrame(this, server, {
      type: 'welcome',
      connection_id: attachment.connId,
      label: attachment.label,
      user_id: userId,
      rooms: Object.keys(attachment.rooms),
    });
    this.ctx.waitUntil(statsStub(this.env).add({ connections: 1 }));
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RECHECK_MS);
    const protocol = request.headers.get('x-dwc-protocol');
    return new Response(null, { status: 101, webSocket: client, headers: protocol ? { 'sec-websocket-protocol': protocol } : {} });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const att = this.attachment(ws);
    if (!att) return ws.close(1011, 'lost connection state');
    this.count('in');
    const size = typeof message === 'string' ? new TextEncoder().encode(message).length : message.byteLength;
    if (size > MAX_FRAME_BYTES)
      return sendFrame(this, ws, { type: 'error', code: 'too_large', message: `frames are limited to ${MAX_FRAME_BYTES} bytes` });
    // Token bucket kept in the attachment, so the limit holds across hibernation.
    const now = Date.now();
    att.tokens = Math.min(RATE_BURST, att.tokens + ((now - att.refilledAt) / 1000) * RATE_PER_SECOND);
    att.refilledAt = now;
    if (att.tokens < 1) {
      this.saveAttachment(ws, att);
      return sendFrame(this, ws, { type: 'error', code: 'rate_limited', message: `at most ${RATE_PER_SECOND} messages per second` });
    }
    att.tokens -= 1;
    this.saveAttachment(ws, att);
    await handleFrame(this, ws, typeof message === 'string' ? message : new TextDecoder().decode(message));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    await this.disconnected(ws);
    try {
      ws.close(code === 1005 ? 1000 : code, 'closing');
    } catch {
      // already closed by the peer
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.disconnected(ws);
  }

  /**
   * Every RECHECK_MS while sockets are open: closes (4401) those whose session ended or whose API
   * key was revoked or expired, and runs their cleanup first (a close the server starts may never
   * be answered by the client). The alarm wakes a hibernated hub; sockets stay connected through
   * it. A failed check throws, and the platform retries the alarm.
   */
  override async alarm(): Promise<void> {
    const open = this.ctx.getWebSockets().flatMap((ws) => {
      const att = this.attachment(ws);
      return att && !att.ended ? [{ ws, att }] : [];
    });
    if (open.length === 0) return;
    const ended = await endedSockets(this.env, open);
    for (const ws of ended) {
      await this.disconnected(ws);
      const att = this.attachment(ws);
      if (att) this.saveAttachment(ws, { ...att, ended: true });
      try {
        ws.close(4401, 'session ended or credential revoked');
      } catch {
        // already closed by the peer
      }
    }
    if (open.length > ended.length) await this.ctx.storage.setAlarm(Date.now() + RECHECK_MS);
  }

  // ---- RPC -------------------------------------------------------------------------------

  /** New events of a room: forwarded, in order and once each, to the sockets that joined it. */
  async deliver(room: string, events: RoomEvent[], hub: string): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      const att = this.attachment(ws);
      if (!att || att.rooms[room] === undefined) continue;
      const buffer = this.replaying.get(`${att.connId}|${room}`);
      if (buffer) buffer.push(...events);
      else await this.forward(ws, att, room, events);
    }
    // No socket wants this room any more (all left or closed while a delivery was in flight).
    if (!this.ctx.getWebSockets().some((ws) => this.attachment(ws)?.rooms[room] !== undefined) && !room.startsWith('user:')) {
      await roomStub(this.env, room).unsubscribe(hub);
    }
  }

  /** A message on the user's own channel, to every socket of theirs. */
  notify(payload: Record<string, unknown>): number {
    const sockets = this.ctx.getWebSockets();
    for (const ws of sockets) sendFrame(this, ws, { type: 'notification', data: payload });
    return sockets.length;
  }

  connectionCount(): number {
    return this.ctx.getWebSockets().length;
  }

  // ---- HubContext (used by frame handling) -------------------------------------------------

  attachment(ws: WebSocket): Attachment | null {
    const cached = this.attachments.get(ws);
    if (cached) return cached;
    const parsed = Attachment.safeParse(ws.deserializeAttachment());
    if (!parsed.success) return null;
    this.attachments.set(ws, parsed.data);
    return parsed.data;
  }

  saveAttachment(ws: WebSocket, att: Attachment): void {
    ws.serializeAttachment(att);
    this.attachments.set(ws, att);
    this.unsaved.delete(ws);
  }

  /**
   * Persists a socket's new last-sent seq after a short delay, once for all the deliveries in
   * between, instead of once per socket per delivery (a structured-clone write that profiling
   * showed costing about as much as the send itself). Nothing is lost by waiting: an object with
   * a pending setTimeout is not hibernated (Durable Objects lifecycle docs: hibernation needs "no
   * setTimeout/setInterval scheduled callbacks"), and an eviction that does not wait for it (a
   * crash or a deploy) closes the sockets too, so a stale attachment is never read back.
   */
  private saveLater(ws: WebSocket): void {
    this.unsaved.add(ws);
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = null;
      for (const socket of this.unsaved) {
        const att = this.attachments.get(socket);
        try {
          if (att) socket.serializeAttachment(att);
        } catch {
          // closed meanwhile; its close handler cleans up
        }
      }
      this.unsaved.clear();
    }, ATTACHMENT_SAVE_MS);
  }

  get bindings(): Env {
    return this.env;
  }

  /**
   * Sends events newer than the socket's last seq for that room. A gap (events published while a
   * delivery was lost) is filled from the room's log first, so the client sees every seq once.
   */
  async forward(ws: WebSocket, att: Attachment, room: string, events: RoomEvent[]): Promise<void> {
    let last = att.rooms[room] ?? 0;
    const first = events[0];
    if (first && first.seq > last + 1 && last > 0) {
      const missing = await roomStub(this.env, room).since(last, first.seq - last - 1);
      events = [...missing, ...events];
    }
    for (const e of events) {
      if (e.seq <= last) continue;
      sendText(this, ws, eventFrame(room, e));
      last = e.seq;
    }
    const fresh = this.attachment(ws);
    if (fresh && fresh.rooms[room] !== undefined) {
      fresh.rooms[room] = last;
      this.saveLater(ws);
    }
  }

  count(direction: 'in' | 'out', n = 1): void {
    if (direction === 'in') this.pendingIn += n;
    else this.pendingOut += n;
    // Message counts are reported at most once a second, not per message.
    this.statsTimer ??= setTimeout(() => {
      this.statsTimer = null;
      const delta = { messages_in: this.pendingIn, messages_out: this.pendingOut };
      this.pendingIn = 0;
      this.pendingOut = 0;
      this.ctx.waitUntil(statsStub(this.env).add(delta));
    }, STATS_FLUSH_MS);
  }

  private async disconnected(ws: WebSocket): Promise<void> {
    const att = this.attachment(ws);
    if (!att || att.ended) return;
    this.saveAttachment(ws, { ...att, rooms: {} });
    await statsStub(this.env).add({ connections: -1 });
    const rooms = Object.keys(att.rooms).filter((room) => !room.startsWith('user:'));
    if (rooms.length === 0) return;
    // Per room, stop at the first other socket still in it: when many sockets share a room (the
    // common case) that is one look, not a walk over every socket for every close.
    const others = this.ctx.getWebSockets().filter((s) => s !== ws);
    for (const room of rooms) {
      if (!others.some((s) => this.attachment(s)?.rooms[room] !== undefined))
        await roomStub(this.env, room).unsubscribe(userChannel(att.userId));
    }
  }
}
