import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { declaredPaths } from './lib/api';
import { buildWorker, type Build } from './lib/build';
import { transportRetries } from './lib/http';
import { consoleTable, markdown, writeBenchmarksMd, type Report } from './lib/report';
import type { BuildName, Ctx, ScenarioResult } from './lib/types';
import { CONVERTER_STANDIN } from './lib/ours';
import { disposeAll, startWorker } from './lib/workers';
import { scenarios } from './scenarios';

/**
 * `npm run bench`: builds our worker and the peers with `wrangler deploy --dry-run`, runs each
 * scenario against workerd started through Miniflare's API (no `wrangler dev` proxy), writes
 * bench/results/latest.json and the results section of BENCHMARKS.md, prints the table, and exits
 * non-zero only when a scenario errors or loses (or doubles) a message. Missed targets are shown,
 * not failed.
 */
const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    reps: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'string', default: 'auto' },
    'no-write': { type: 'boolean', default: false },
  },
});
const root = process.cwd();
const only = args.only ? new Set(args.only.split(',').map(Number)) : null;
const reps = Math.max(1, Number(args.reps));
const profile = args.profile === 'always' || args.profile === 'never' ? args.profile : 'auto';
const started = Date.now();
const log = (msg: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${msg}`);

const configs: Record<BuildName, string> = {
  ours: path.join(root, 'wrangler.toml'),
  hello: path.join(root, 'bench/peers/hello/wrangler.toml'),
  broadcast: path.join(root, 'bench/peers/broadcast/wrangler.toml'),
  workflows: path.join(root, 'bench/peers/workflows/wrangler.toml'),
  'queue-ack': path.join(root, 'bench/peers/queue-ack/wrangler.toml'),
};
const builds = new Map<BuildName, Promise<Build>>();
const build = (name: BuildName) => {
  if (!builds.has(name)) builds.set(name, buildWorker(root, name === 'ours' ? 'dwc' : `peer-${name}`, configs[name]));
  return builds.get(name)!;
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

const version = (pkg: string) => {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
};
const fdLimit = () => /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 'unknown';

function environment() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'}`,
    'logical cores': os.availableParallelism(),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    wrangler: version('wrangler'),
    miniflare: version('miniflare'),
    workerd: version('workerd'),
    autocannon: version('autocannon'),
    ws: version('ws'),
    hono: version('hono'),
    'open files limit': fdLimit(),
    'how workers run':
      'Miniflare API, one workerd process per worker, requests to the worker’s own workerd socket on 127.0.0.1 (no wrangler dev proxy)',
  };
}

async function probePaths(ctx: Ctx): Promise<Set<string> | null> {
  try {
    const running = await startWorker(await ctx.build('ours'), { extra: CONVERTER_STANDIN });
    try {
      return await declaredPaths(running.url);
    } finally {
      await running.dispose();
    }
  } catch (err) {
    log(`our worker did not build or start: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

/** An error with its causes (undici's "fetch failed" hides the reason in `cause`). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e && parts.length < 4; e = e instanceof Error ? e.cause : undefined)
    parts.push(e instanceof Error ? e.message : String(e));
  return parts.join(': ');
}

async function main(): Promise<number> {
  const ctx: Ctx = { root, reps, quick: args.quick, profile, build, paths: null, log, freePort };
  log(`building workers with wrangler deploy --dry-run (${os.availableParallelism()} cores, open files limit ${fdLimit()})`);
  ctx.paths = await probePaths(ctx);
  const results: ScenarioResult[] = [];
  for (const sc of scenarios) {
    if (only && !only.has(sc.id)) continue;
    const base = { id: sc.id, slug: sc.slug, title: sc.title, peer: sc.peer, target: sc.target };
    const missing = sc.missing(ctx);
    if (missing) {
      log(`${sc.id}. ${sc.title}: not built (${missing})`);
      results.push({ ...base, status: 'not_built', reason: missing, durationMs: 0 });
      continue;
    }
    log(`${sc.id}. ${sc.title}`);
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        sc.run(ctx),
        new Promise<never>(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`exceeded its budget of ${sc.budgetMs / 1000} s`)), sc.budgetMs)),
        ),
      ]);
      results.push({ ...base, status: 'ok', durationMs: Date.now() - t0, ...outcome });
    } catch (err) {
      const reason = describe(err);
      log(`${sc.id}. ${sc.title}: ERROR ${reason}`);
      results.push({ ...base, status: 'error', reason, durationMs: Date.now() - t0 });
      await disposeAll();
    } finally {
      clearTimeout(timer);
    }
  }
  await disposeAll();
  // The bundles were only needed while workers ran.
  for (const b of await Promise.allSettled(builds.values()))
    if (b.status === 'fulfilled') rmSync(b.value.outdir, { recursive: true, force: true });
  const exitCode = results.some((r) => r.status === 'error' || (r.lost ?? 0) > 0) ? 1 : 0;
  const report: Report = {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    reps,
    quick: args.quick,
    environment: environment(),
    scenarios: results,
    notes: [`harness requests retried after workerd dropped a pooled connection: ${transportRetries()}`],
    exitCode,
  };
  if (!args['no-write']) {
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    if (only) {
      // A partial run never replaces the full table.
      const file = `bench/results/only-${[...only].sort().join('-')}.json.tmp`;
      writeFileSync(path.join(root, file), `${JSON.stringify(report, null, 2)}\n`);
      log(`wrote ${file} (BENCHMARKS.md and latest.json are only written by a full run)`);
    } else {
      writeFileSync(path.join(root, 'bench/results/latest.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeBenchmarksMd(path.join(root, 'BENCHMARKS.md'), markdown(report));
      log('wrote bench/results/latest.json and BENCHMARKS.md');
    }
  }
  console.log(`\n${consoleTable(report)}\n`);
  log(exitCode ? 'FAILED: a scenario errored or lost messages' : 'done');
  return exitCode;
}

// Ctrl-C: stop the workerd processes this run started before leaving.
process.once('SIGINT', () => void disposeAll().finally(() => process.exit(130)));

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(err);
    await disposeAll();
    process.exit(1);
  },
);
