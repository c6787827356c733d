import { SELF } from 'cloudflare:test';
import { BASE } from './helpers';

export type Frame = { type: string; [k: string]: any };

/** A WebSocket client through the whole worker (SELF.fetch with Upgrade), collecting frames. */
export async function connectWs(
  opts: { token?: string; protocols?: string[]; path?: string; query?: string; headers?: Record<string, string> } = {},
) {
  const qs = [opts.token ? `token=${encodeURIComponent(opts.token)}` : '', opts.query ?? ''].filter(Boolean).join('&');
  const headers: Record<string, string> = { ...opts.headers, upgrade: 'websocket' };
  if (opts.protocols) headers['sec-websocket-protocol'] = opts.protocols.join(', ');
  const res = await SELF.fetch(`${BASE}${opts.path ?? '/api/v3/ws'}${qs ? `?${qs}` : ''}`, { headers });
  const ws = res.webSocket;
  if (!ws)
    return {
      res,
      ws: null as never,
      frames: [] as Frame[],
      send: () => undefined,
      waitFor: async () => ({}) as Frame,
      close: () => undefined,
      closed: new Promise<{ code: number; reason: string }>(() => undefined),
    };
  ws.accept();
  /** Settles when the server closes the socket, with its code and reason. */
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })),
  );
  const frames: Frame[] = [];
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  ws.addEventListener('message', (e) => {
    const frame = JSON.parse(String(e.data)) as Frame;
    frames.push(frame);
    for (const w of [...waiters])
      if (w.pred(frame)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frame);
      }
  });
  const waitFor = (pred: (f: Frame) => boolean, timeoutMs = 8000) =>
    new Promise<Frame>((resolve, reject) => {
      const seen = frames.find(pred);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => reject(new Error(`no matching frame; got ${JSON.stringify(frames.map((f) => f.type))}`)), timeoutMs);
      waiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  return {
    res,
    ws,
    frames,
    send: (frame: unknown) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    waitFor,
    close: () => ws.close(1000, 'done'),
    closed,
  };
}
