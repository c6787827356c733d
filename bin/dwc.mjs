#!/usr/bin/env node
// `npx dwc`: runs the built CLI, building it first when this checkout has no build yet or its
// sources (cli/, sdk/) changed since, so a developer never runs, or tests, a stale CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'build/cli/dwc.mjs');
const sources = ['cli', 'sdk'].flatMap((dir) =>
  readdirSync(path.join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(root, dir, f)),
);
const stale = () => !existsSync(cli) || sources.some((f) => statSync(f).mtimeMs > statSync(cli).mtimeMs);
if (stale()) execFileSync(process.execPath, [path.join(root, 'cli/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
if (!existsSync(cli)) {
  console.error(
    'dwc: the CLI is not built and cannot be (esbuild missing): run `npm install` with devDependencies, then `npm run build:cli`',
  );
  process.exit(2);
}
await import(pathToFileURL(cli).href);
