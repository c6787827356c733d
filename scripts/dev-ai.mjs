#!/usr/bin/env node
/*
 * `npm run dev:ai`: `npm run dev` with real Workers AI. The same Worker and local bindings (D1, KV,
 * queues, Durable Objects all stay on this machine), except the [ai] binding, which wrangler's
 * remote bindings connect to Workers AI on your Cloudflare account: it needs `npx wrangler login`
 * once, and calls are billed to that account. AI_PROVIDER becomes workers-ai (over .dev.vars'
 * local), with local still the fallback.
 *
 * wrangler.toml stays as committed: this writes a copy beside it with `remote = true` on the [ai]
 * binding (git-ignored, rewritten on every start) and serves that.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const source = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
const remote = source.replace(/^\[ai\]\nbinding = "AI"$/m, '[ai]\nbinding = "AI"\nremote = true');
if (remote === source) {
  console.error('dev:ai: wrangler.toml has no `[ai]` section with `binding = "AI"` to make remote');
  process.exit(1);
}
const config = path.join(root, '.wrangler.dev-ai.toml');
writeFileSync(config, `# Written by scripts/dev-ai.mjs from wrangler.toml; do not edit.\n${remote}`);

const wrangler = path.join(root, 'node_modules/wrangler/bin/wrangler.js');
const run = (args) =>
  new Promise((resolve) =>
    spawn(process.execPath, [wrangler, ...args], { cwd: root, stdio: 'inherit' }).on('exit', (code) => resolve(code ?? 1)),
  );

const migrated = await run(['d1', 'migrations', 'apply', 'DB', '--local']);
if (migrated !== 0) process.exit(migrated);
process.exit(
  await run([
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    '8787',
    '-c',
    config,
    '-c',
    'converter/wrangler.toml',
    '--var',
    'AI_PROVIDER:workers-ai',
  ]),
);
