/*
 * Builds the web console (npm run build:console; wrangler.toml's [build] command runs it before
 * `wrangler dev`, `wrangler deploy` and the browser tests' local Worker).
 *
 * Each src/console/client/*.ts becomes one ES module of the same name, transpiled on its own and
 * not bundled: the modules' relative imports ('./api.js') stay as written and the browser loads
 * each from /console/<name>, as the OpenAPI document lists them. app.css and the HTML shell,
 * index.html, are copied. Type checking is tsc's job (npm run typecheck), not this script's.
 *
 * The output, dist/assets/console, is the Workers Static Assets directory (dist/assets), git
 * ignored. A running `wrangler dev` or test Worker may be serving it while this runs, so a file
 * is only written when its content changed, and then by renaming a complete temporary file.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const CLIENT = path.join(import.meta.dirname, 'client');
const OUT = path.join(import.meta.dirname, '../../dist/assets/console');

const sources = (await readdir(CLIENT)).filter((f) => (f.endsWith('.ts') && !f.endsWith('.d.ts')) || f === 'app.css' || f === 'index.html');

const result = await build({
  entryPoints: sources.map((f) => path.join(CLIENT, f)),
  outdir: OUT,
  outbase: CLIENT,
  bundle: false,
  format: 'esm',
  // What the console's tsconfig allows; Chromium and every current browser run it as written.
  target: 'es2022',
  loader: { '.css': 'copy', '.html': 'copy' },
  write: false,
  logLevel: 'warning',
});

await mkdir(OUT, { recursive: true });
let written = 0;
for (const file of result.outputFiles) {
  const old = await readFile(file.path).catch(() => null);
  if (old?.equals(file.contents)) continue;
  const temporary = `${file.path}.${process.pid}.tmp`;
  await writeFile(temporary, file.contents);
  await rename(temporary, file.path);
  written++;
}
console.log(`console: ${result.outputFiles.length} files in ${path.relative(process.cwd(), OUT) || '.'} (${written} changed)`);

// The API documentation pages' files (Swagger UI, ReDoc) go into the same static assets.
await import('../../scripts/build-docs-assets.mjs');
