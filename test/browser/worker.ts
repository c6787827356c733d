import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { unstable_startWorker } from 'wrangler';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WRANGLER = path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js');

/*
 * Left alone, wrangler checks npm for a newer version when it prints its banner, may send usage
 * metrics, and Miniflare downloads a `Request.cf` sample from workers.cloudflare.com. None of
 * that is wanted in tests, which must never leave 127.0.0.1. The worker runs in this process,
 * so these are set here as well as for the migration command.
 */
const OFFLINE_ENV = {
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_LOG: 'warn',
};

export type LocalWorker = { url: string; stop(): Promise<void> };

/**
 * The whole Worker from wrangler.toml, served by workerd on 127.0.0.1 exactly as `npm run dev`
 * serves it (local mode: D1, KV, Durable Objects and queues simulated offline), with its own
 * storage in a temporary directory. The D1 migrations are applied to that directory first with
 * the same command the README uses, so the tests exercise the real migration path.
 */
export async function startLocalWorker(): Promise<LocalWorker> {
  Object.assign(process.env, OFFLINE_ENV);
  const persist = await mkdtemp(path.join(tmpdir(), 'dwc-browser-'));
  await promisify(execFile)(process.execPath, [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist], {
    cwd: ROOT,
    // CI: apply without asking for confirmation.
    env: { ...process.env, ...OFFLINE_ENV, CI: 'true' },
  });
  // The converter Worker runs beside the main one, as `npm run dev` runs both: each finds the
  // other through a dev registry of their own (a temporary directory, so no other local session
  // is ever reached).
  const registry = path.join(persist, 'registry');
  const dev = {
    remote: false,
    persist,
    registry,
    watch: false,
    inspector: false,
    logLevel: 'error',
    server: { hostname: '127.0.0.1', port: 0 },
  } as const;
  const converter = await unstable_startWorker({ config: path.join(ROOT, 'converter/wrangler.toml'), dev });
  await converter.ready;
  const worker = await unstable_startWorker({
    config: path.join(ROOT, 'wrangler.toml'),
    // Request logs would drown the test report; the console's own behaviour is what is tested.
    bindings: { LOG_LEVEL: { type: 'plain_text', value: process.env.TEST_LOG_LEVEL ?? 'silent' } },
    dev,
  });
  try {
    await worker.ready;
    const url = (await worker.url).origin;
    // A failed build still leaves a server that never answers; fail here, with a reason.
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(20_000) }).catch((err: Error) => err);
    if (health instanceof Error || !health.ok)
      throw new Error(`the local Worker did not answer /health: ${health instanceof Error ? health.message : health.status}`);
    return {
      url,
      async stop() {
        await worker.dispose();
        await converter.dispose();
        await rm(persist, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await worker.dispose();
    await converter.dispose();
    await rm(persist, { recursive: true, force: true });
    throw err;
  }
}
