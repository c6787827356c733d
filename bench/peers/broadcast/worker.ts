import { DurableObject } from 'cloudflare:workers';

type Env = { BROADCAST: DurableObjectNamespace<Broadcast> };

/**
 * The peer for WebSocket fan-out: the smallest broadcast object the hibernation API allows.
 * Sockets are accepted with `ctx.acceptWebSocket`; a client's first frame is answered `joined`
 * (the same handshake our rooms use), and `publish` stamps a frame once and sends it to every
 * socket. No log, no sequence store, no attachments, no validation: the floor to compare with.
 */
export class Broadcast extends DurableObject<Env> {
  private published = 0;

  override async fetch(): Promise<Response> {
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(ws: WebSocket): void {
    ws.send('{"type":"joined"}');
  }

  /**
   * Sends one event, padded to about `bytes`, to every socket; `at` is taken before the first
   * send. Seqs only grow, so a repeated one (the bench re-sending after a dropped connection)
   * is not sent twice.
   */
  publish(seq: number, bytes: number): number {
    if (seq <= this.published) return 0;
    this.published = seq;
    const pad = 'x'.repeat(Math.max(0, bytes - 60));
    const sockets = this.ctx.getWebSockets();
    const frame = JSON.stringify({ type: 'event', seq, at: Date.now(), pad });
    for (const ws of sockets) ws.send(frame);
    return sockets.length;
  }
}

const stub = (env: Env) => env.BROADCAST.get(env.BROADCAST.idFromName('room'));

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === '/ws') return stub(env).fetch(request);
    if (url.pathname === '/publish' && request.method === 'POST') {
      const body = await request.json<{ seq: number; bytes: number }>();
      return Response.json({ sent: await stub(env).publish(body.seq, body.bytes) });
    }
    return new Response('not found', { status: 404 });
  },
} satisfies ExportedHandler<Env>;
