import WebSocket from 'ws';

/**
 * A separate Node process holding N WebSocket clients (forked by bench/lib/fanout.ts). It
 * connects and joins them, then counts, per client, the `event` frames of each measurement round,
 * checks each client saw every sequence number once, and measures delivery latency as
 * receive time − the `at` timestamp the server put in the frame. Both clocks are this machine's
 * wall clock (workerd's Date.now() and Node's), so no offset applies; workerd's clock advances
 * only between I/O, which makes `at` a little early, never late.
 */
export type ConnectCmd = { cmd: 'connect'; url: string; count: number; parallel: number; join: string };
export type ArmCmd = { cmd: 'arm'; runId: number | null };
export type CollectCmd = { cmd: 'collect'; expected: number; timeoutMs: number };
export type Cmd = ConnectCmd | ArmCmd | CollectCmd | { cmd: 'close' };

export type Quantiles = { p50: number; p90: number; p99: number; max: number };
export type RoundStats = {
  clients: number;
  expected: number;
  received: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  extra: number;
  meanBytes: number;
  /** receive − the frame's publish stamp (ours: the run's event time; peer: the object's). */
  latency: Quantiles;
  /** Ours only: receive − the room's stamp, and room stamp − run event time. */
  roomToClient: Quantiles | null;
  runToRoom: Quantiles | null;
  /** First publish stamp to last receive. */
  spanMs: number;
};

type Frame = { type?: string; seq?: number; at?: number; event?: { at?: number; run_id?: number } };
type Client = { ws: WebSocket; count: number; lastSeq: number; seen: Set<number> };

const clients: Client[] = [];
let runFilter: number | null = null;
let armed = false;
let lat: number[] = [];
let roomLat: number[] = [];
let runLat: number[] = [];
let bytes = 0;
let dup = 0;
let ooo = 0;
let firstAt = Infinity;
let lastRecv = 0;
const now = () => performance.timeOrigin + performance.now();

function onFrame(c: Client, data: WebSocket.RawData) {
  if (!armed) return;
  const t = now();
  const text = data.toString();
  const f = JSON.parse(text) as Frame;
  if (f.type !== 'event' || typeof f.seq !== 'number' || typeof f.at !== 'number') return;
  if (runFilter !== null && f.event?.run_id !== runFilter) return;
  if (c.seen.has(f.seq)) {
    dup++;
    return;
  }
  if (f.seq < c.lastSeq) ooo++;
  c.seen.add(f.seq);
  c.lastSeq = Math.max(c.lastSeq, f.seq);
  c.count++;
  bytes += text.length;
  const published = f.event?.at ?? f.at;
  lat.push(t - published);
  if (f.event?.at !== undefined) {
    roomLat.push(t - f.at);
    runLat.push(f.at - f.event.at);
  }
  firstAt = Math.min(firstAt, published);
  lastRecv = Math.max(lastRecv, t);
}

function connectOne(url: string, join: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const c: Client = { ws, count: 0, lastSeq: 0, seen: new Set() };
    const timer = setTimeout(() => reject(new Error('join timed out after 30 s')), 30_000);
    ws.once('error', (e) => reject(e));
    ws.on('open', () => ws.send(join));
    ws.on('message', function first(data) {
      if ((JSON.parse(data.toString()) as Frame).type !== 'joined') return;
      clearTimeout(timer);
      ws.off('message', first);
      ws.on('message', (d) => onFrame(c, d));
      resolve(c);
    });
  });
}

async function connect(cmd: ConnectCmd) {
  const started = now();
  let next = 0;
  let failures = 0;
  let firstError = '';
  const worker = async () => {
    while (next < cmd.count) {
      next++;
      try {
        clients.push(await connectOne(cmd.url, cmd.join));
      } catch (e) {
        failures++;
        firstError ||= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.parallel }, worker));
  return { connected: clients.length, failures, firstError, ms: now() - started };
}

const q = (v: number[]): Quantiles => {
  const s = Float64Array.from(v).sort();
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] ?? Number.NaN };
};

async function collect(cmd: CollectCmd): Promise<RoundStats> {
  const until = Date.now() + cmd.timeoutMs;
  while (Date.now() < until && clients.some((c) => c.count < cmd.expected)) await new Promise((r) => setTimeout(r, 20));
  armed = false;
  const received = clients.reduce((n, c) => n + c.count, 0);
  return {
    clients: clients.length,
    expected: cmd.expected,
    received,
    missing: clients.reduce((n, c) => n + Math.max(0, cmd.expected - c.count), 0),
    extra: clients.reduce((n, c) => n + Math.max(0, c.count - cmd.expected), 0),
    duplicates: dup,
    outOfOrder: ooo,
    meanBytes: received ? bytes / received : 0,
    latency: q(lat),
    roomToClient: roomLat.length ? q(roomLat) : null,
    runToRoom: runLat.length ? q(runLat) : null,
    spanMs: lastRecv - firstAt,
  };
}

process.on('message', (m: Cmd) => {
  const reply = (v: unknown) => process.send!(v);
  if (m.cmd === 'connect') void connect(m).then(reply);
  else if (m.cmd === 'arm') {
    runFilter = m.runId;
    for (const c of clients) Object.assign(c, { count: 0, lastSeq: 0, seen: new Set() });
    [lat, roomLat, runLat, bytes, dup, ooo, firstAt, lastRecv] = [[], [], [], 0, 0, 0, Infinity, 0];
    armed = true;
    reply({ armed: true });
  } else if (m.cmd === 'collect') void collect(m).then(reply);
  else if (m.cmd === 'close') {
    for (const c of clients) c.ws.terminate();
    process.exit(0);
  }
});
