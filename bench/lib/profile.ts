import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import WebSocket from 'ws';

/**
 * CPU profiles of workerd isolates through workerd's V8 inspector (Miniflare's `inspectorPort`).
 * Every worker in the instance is its own inspector target: ours (`core:user:<name>`) and
 * Miniflare's local simulators (`d1:db`, `kv:ns`, …), so one profile window shows how workerd's
 * CPU time divides between our code and the local stand-ins for platform services.
 */
type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; children?: number[] };
export type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/**
 * Shares of the isolate's on-CPU samples. V8 takes a sample only while the isolate holds the
 * thread, so counts say where *this isolate's* time goes; they are not comparable in absolute
 * terms across isolates that share workerd's thread (workerd's total CPU comes from /proc).
 */
export type ProfileSummary = {
  target: string;
  wallMs: number;
  samples: number;
  /** Samples spent idle (waiting on I/O) and in garbage collection, as % of all samples. */
  idlePct: number;
  gcPct: number;
  /** % of busy samples by where the code comes from: an npm package, a folder of src/, or a built-in. */
  bySource: { source: string; pct: number }[];
  topFunctions: { fn: string; source: string; pct: number }[];
  /** % of busy samples with the function anywhere on the stack (itself and what it calls). */
  inclusive: { fn: string; source: string; pct: number }[];
};

class Cdp {
  private next = 1;
  private readonly pending = new Map<number, (r: { result?: unknown; error?: { message: string } }) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id !== undefined) this.pending.get(msg.id)?.(msg);
    });
  }
  static open(url: string): Promise<Cdp> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.once('open', () => resolve(new Cdp(ws)));
      ws.once('error', reject);
    });
  }
  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r.result as T)));
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

/** Profiles the named targets while `fn` runs. Targets are inspector ids (see /json). */
export async function profileWhile<T>(
  port: number,
  targets: string[],
  fn: () => Promise<T>,
): Promise<{ result: T; profiles: Map<string, CpuProfile> }> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { id: string; webSocketDebuggerUrl: string }[];
  const sessions: [string, Cdp][] = [];
  for (const t of targets) {
    const entry = list.find((e) => e.id === t);
    if (!entry) continue;
    const cdp = await Cdp.open(entry.webSocketDebuggerUrl);
    await cdp.send('Profiler.enable');
    // 250 µs: fine enough for sub-millisecond request handlers, coarse enough to stay cheap.
    await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
    sessions.push([t, cdp]);
  }
  for (const [, cdp] of sessions) await cdp.send('Profiler.start');
  const profiles = new Map<string, CpuProfile>();
  let result: T;
  try {
    result = await fn();
  } finally {
    for (const [t, cdp] of sessions) {
      const { profile } = await cdp.send<{ profile: CpuProfile }>('Profiler.stop');
      profiles.set(t, profile);
      cdp.close();
    }
  }
  return { result, profiles };
}

/** Where a bundled module comes from: `jose`, `@hono/zod-openapi`, `src/auth`, `durable-objects`, … */
function sourceGroup(file: string): string {
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const m = /(?:^|\/)(src(?:\/[^/]+(?=\/))?|durable-objects)\/[^/]+$/.exec(file);
  return m ? m[1]! : file;
}

/**
 * esbuild (which wrangler uses, unminified) heads every bundled module with a `// <path>`
 * comment; a frame's bundle line therefore names its module exactly, no source map needed.
 */
function moduleIndex(bundlePath: string): (line: number) => string | null {
  const starts: [number, string][] = [];
  readFileSync(bundlePath, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = /^\/\/ ((?:\.\.\/)*(?:[\w@.-]+\/)*[\w@.-]+\.(?:[cm]?[jt]sx?|json))$/.exec(text);
      if (m) starts.push([i, m[1]!]);
    });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found: string | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]![0] <= line) {
        found = starts[mid]![1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

/** Summarises a profile; with `bundlePath`, frames of our bundle are attributed to their module. */
export function summarize(target: string, profile: CpuProfile, bundlePath?: string, top = 12): ProfileSummary {
  const moduleAt = bundlePath ? moduleIndex(bundlePath) : null;
  // The source map only supplies the original line number of a function, for the table.
  const map = bundlePath && existsSync(`${bundlePath}.map`) ? new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8'))) : null;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  let idle = 0;
  let gc = 0;
  const fns = new Map<string, { fn: string; source: string; n: number }>();
  const groups = new Map<string, number>();
  for (const [id, n] of counts) {
    const cf = byId.get(id)!.callFrame;
    if (cf.functionName === '(idle)') {
      idle += n;
      continue;
    }
    if (cf.functionName === '(garbage collector)') gc += n;
    const mod = moduleAt && cf.url && !cf.url.includes(':') ? moduleAt(cf.lineNumber) : null;
    const source = mod ?? (cf.url || cf.functionName);
    // A frame at line -1 of a script is its top-level evaluation (module start-up).
    const group = mod ? sourceGroup(mod) : cf.url ? (cf.lineNumber < 0 ? `${cf.url} (top level)` : cf.url) : cf.functionName;
    groups.set(group, (groups.get(group) ?? 0) + n);
    const original = mod && map ? (map.findEntry(cf.lineNumber, cf.columnNumber) as { originalLine?: number }).originalLine : undefined;
    const file = mod ? mod.replace(/^(?:\.\.\/)+(?:[^/]+\/)*?(node_modules|src|durable-objects)\//, '$1/') : cf.url;
    const where = original !== undefined ? `${file}:${original + 1}` : file;
    const key = `${cf.functionName}|${source}|${cf.lineNumber}`;
    const f = fns.get(key) ?? { fn: cf.functionName || '(anonymous)', source: where, n: 0 };
    f.n += n;
    fns.set(key, f);
  }
  // Inclusive shares: each busy sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number) => {
    const cf = byId.get(id)!.callFrame;
    const mod = moduleAt && cf.url && !cf.url.includes(':') ? moduleAt(cf.lineNumber) : null;
    const original = mod && map ? (map.findEntry(cf.lineNumber, cf.columnNumber) as { originalLine?: number }).originalLine : undefined;
    const file = mod ? mod.replace(/^(?:\.\.\/)+(?:[^/]+\/)*?(node_modules|src|durable-objects)\//, '$1/') : cf.url;
    return { fn: cf.functionName || '(anonymous)', source: original !== undefined ? `${file}:${original + 1}` : file };
  };
  const incl = new Map<string, { fn: string; source: string; n: number }>();
  for (const [id, n] of counts) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(cur);
      if (l.fn === '(root)') continue;
      const key = `${l.fn}|${l.source}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = incl.get(key) ?? { ...l, n: 0 };
      e.n += n;
      incl.set(key, e);
    }
  }
  const total = profile.samples.length;
  const busy = total - idle;
  const pct = (n: number) => (busy > 0 ? (n / busy) * 100 : 0);
  return {
    target,
    wallMs: (profile.endTime - profile.startTime) / 1000,
    samples: total,
    idlePct: total ? (idle / total) * 100 : 0,
    gcPct: pct(gc),
    bySource: [...groups]
      .map(([source, n]) => ({ source, pct: pct(n) }))
      .sort((a, b) => b.pct - a.pct)
      .slice(0, top),
    topFunctions: [...fns.values()]
      .map((f) => ({ fn: f.fn, source: f.source, pct: pct(f.n) }))
      .sort((a, b) => b.pct - a.pct)
      .slice(0, top),
    // Functions of our own code and its libraries only (with a module), below the entry points
    // that are on nearly every stack.
    inclusive: [...incl.values()]
      .filter((f) => /^(node_modules|src|durable-objects)\//.test(f.source))
      .map((f) => ({ fn: f.fn, source: f.source, pct: pct(f.n) }))
      .filter((f) => f.pct < 90)
      .sort((a, b) => b.pct - a.pct)
      .slice(0, top * 2),
  };
}
