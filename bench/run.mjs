#!/usr/bin/env node
// `npm run bench` starts here. Node 20 cannot run TypeScript, so this bundles bench/main.ts (and
// the WebSocket client process) with the esbuild that wrangler pins, into node_modules/.cache,
// then runs it. Before that it makes sure the open-files limit allows 5,000 WebSockets: if the
// soft limit is lower, it re-executes itself under `bash -c 'ulimit -n …'` (up to the hard limit).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WANT_FDS = 16384;
const here = path.dirname(fileURLToPath(import.meta.url));
// npm runs scripts from the package root; the harness works on the project found there.
const root = process.cwd();
const out = path.join(root, 'node_modules', '.cache', 'dwc-bench');

const limit = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
if (limit < WANT_FDS && !process.env.DWC_BENCH_ULIMIT_TRIED) {
  const cmd = `ulimit -n ${WANT_FDS} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;
  const r = spawnSync('bash', ['-c', cmd, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, DWC_BENCH_ULIMIT_TRIED: '1' },
  });
  process.exit(r.status ?? 1);
}

await build({
  entryPoints: { main: path.join(here, 'main.ts'), 'ws-clients': path.join(here, 'lib', 'ws-clients.ts') },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--enable-source-maps', path.join(out, 'main.mjs'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
