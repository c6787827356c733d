import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Miniflare, type WorkerOptions } from 'miniflare';
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from 'wrangler';
import type { Build } from './build';
import { workerdPids } from './procs';

/**
 * One worker on its own workerd, reached directly on 127.0.0.1 (no `wrangler dev` proxy in front).
 * Each worker gets its own Miniflare instance, hence its own workerd process: memory is then
 * per worker, and a peer idling in the background costs nothing while ours is measured.
 */
export type Running = {
  name: string;
  mf: Miniflare;
  /** The worker's own socket on workerd (Miniflare's entry worker is not in the path). */
  url: string;
  pid: number | null;
  inspectorPort: number | null;
  startMs: number;
  stderrTail: () => string;
  dispose: () => Promise<void>;
};

/** Every instance still running, so that a scenario that overran its budget can be cleaned up. */
const live = new Set<Running>();

export async function disposeAll(): Promise<void> {
  await Promise.allSettled([...live].map((r) => r.dispose()));
}

export type StartOptions = { inspectorPort?: number; extra?: Partial<WorkerOptions> };

/**
 * Bindings come from the worker's wrangler.toml through wrangler's own translation
 * (`unstable_getMiniflareWorkerOptions`, the one `wrangler dev` and vitest-pool-workers use):
 * D1, KV, every Durable Object class with the SQLite storage its migrations declare, queue
 * producers and consumers, workflows, vars, and secrets from .dev.vars. Only the code differs from
 * `wrangler dev`: the already-built bundle is given as modules, so nothing is rebuilt here.
 */
const configs = new Map<string, ReturnType<typeof unstable_getMiniflareWorkerOptions>['workerOptions']>();

export async function startWorker(build: Build, options: StartOptions = {}): Promise<Running> {
  if (!configs.has(build.configPath)) configs.set(build.configPath, unstable_getMiniflareWorkerOptions(build.configPath).workerOptions);
  const workerOptions = configs.get(build.configPath)!;
  const before = workerdPids();
  let stderr = '';
  const started = performance.now();
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    telemetry: { enabled: false },
    handleRuntimeStdio(stdout: Readable, err: Readable) {
      // The worker's JSON access logs: consumed (the pipe must not fill up) and dropped.
      stdout.resume();
      err.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
    },
    workers: [
      {
        ...(workerOptions as WorkerOptions),
        name: build.name,
        modulesRoot: build.outdir,
        modules: build.modules.map((m) => ({ type: m.type, path: m.path })),
        // A workerd socket bound to this worker itself. Miniflare's own URL goes through its entry
        // worker (routing, error pages), a hop that production does not have.
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
        ...options.extra,
      } as WorkerOptions,
    ],
  });
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL(build.name)).toString().replace(/\/$/, '');
  const startMs = performance.now() - started;
  const pid = [...workerdPids()].find((p) => !before.has(p)) ?? null;
  let disposed: Promise<void> | null = null;
  const running: Running = {
    name: build.name,
    mf,
    url,
    pid,
    inspectorPort: options.inspectorPort ?? null,
    startMs,
    stderrTail: () => stderr,
    dispose: () => {
      live.delete(running);
      return (disposed ??= mf.dispose());
    },
  };
  live.add(running);
  return running;
}

/** Applies every migrations/*.sql in order, as `wrangler d1 migrations apply` would. */
export async function applyMigrations(running: Running, root: string): Promise<number> {
  const db = await running.mf.getD1Database('DB');
  const dir = path.join(root, 'migrations');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const f of files) {
    // splitSqlQuery keeps CREATE TRIGGER … BEGIN … END together (0002 has triggers).
    const statements = unstable_splitSqlQuery(readFileSync(path.join(dir, f), 'utf8'));
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  return files.length;
}
