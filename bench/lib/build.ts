import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** A worker bundled by `wrangler deploy --dry-run`, exactly what `wrangler deploy` would upload. */
export type Build = {
  name: string;
  configPath: string;
  outdir: string;
  /** Module files in upload order, the entry first. */
  modules: { path: string; type: 'ESModule' | 'Text' | 'Data' | 'CompiledWasm' }[];
  /** As wrangler printed them ("Total Upload: … KiB / gzip: … KiB"). */
  wranglerUploadKiB: number | null;
  wranglerGzipKiB: number | null;
  /** Our own count over the same files: raw bytes and gzip -9 bytes (source maps excluded). */
  rawBytes: number;
  gzipBytes: number;
  buildMs: number;
};

const MODULE_TYPES: [RegExp, Build['modules'][number]['type']][] = [
  [/\.m?js$/, 'ESModule'],
  [/\.wasm$/, 'CompiledWasm'],
  [/\.(txt|html|sql)$/, 'Text'],
  [/\.bin$/, 'Data'],
];

/**
 * Runs the project's wrangler (node_modules/wrangler) with `deploy --dry-run --outdir`. A failed
 * build throws with wrangler's own error text: a scenario that needs the worker then reports an
 * error rather than measuring a stale bundle.
 */
export async function buildWorker(root: string, name: string, configPath: string): Promise<Build> {
  const outdir = mkdtempSync(path.join(tmpdir(), `dwc-bench-${name}-`));
  const wrangler = path.join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir, '--config', configPath], {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0', NO_COLOR: '1', CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrangler deploy --dry-run failed for ${name} (exit ${code}):\n${errorLines(text)}`)),
    );
  });
  const buildMs = performance.now() - started;
  const sizes = /Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/.exec(output);
  const files = readdirSync(outdir).filter((f) => !f.endsWith('.map') && f !== 'README.md');
  const entry = files.find((f) => f === 'index.js') ?? files.find((f) => /\.m?js$/.test(f));
  if (!entry) throw new Error(`wrangler wrote no JavaScript module for ${name} into ${outdir}`);
  const modules: Build['modules'] = [];
  let rawBytes = 0;
  const all: Buffer[] = [];
  for (const f of [entry, ...files.filter((x) => x !== entry)]) {
    const type = MODULE_TYPES.find(([re]) => re.test(f))?.[1];
    if (!type) continue;
    const p = path.join(outdir, f);
    modules.push({ path: p, type });
    rawBytes += statSync(p).size;
    all.push(readFileSync(p));
  }
  return {
    name,
    configPath,
    outdir,
    modules,
    wranglerUploadKiB: sizes ? Number(sizes[1]) : null,
    wranglerGzipKiB: sizes ? Number(sizes[2]) : null,
    rawBytes,
    gzipBytes: gzipSync(Buffer.concat(all), { level: 9 }).length,
    buildMs,
  };
}

function errorLines(text: string): string {
  const lines = text.split('\n').filter((l) => /ERROR|Error|error/.test(l));
  return (lines.length ? lines : text.split('\n').slice(-15)).join('\n').trim();
}
