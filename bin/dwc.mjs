#!/usr/bin/env node
// `npx dwc`: runs the built CLI, building it first if this checkout has not been built yet.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');
const cli = path.join(root, 'build/cli/dwc.mjs');
if (!existsSync(cli)) execFileSync(process.execPath, [path.join(root, 'cli/build.mjs')], { stdio: 'inherit' });
if (!existsSync(cli)) {
  console.error(
    'dwc: the CLI is not built and cannot be (esbuild missing): run `npm install` with devDependencies, then `npm run build:cli`',
  );
  process.exit(2);
}
await import(pathToFileURL(cli).href);
