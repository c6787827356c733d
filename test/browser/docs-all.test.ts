import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Block, blocksOf, pages, runScript, script } from './docs-run.js';
import { type LocalWorker, startLocalWorker } from './worker.js';

/*
 * Every curl example of README.md and docs/, run in order on a fresh database (test/browser/
 * docs-run.ts has the rules). The Worker is this file's own: the README creates the first
 * administrator, which only a fresh database allows. `DOCS_PAGE=docs/api/auth.md` runs README.md
 * and that page only.
 */
let worker: LocalWorker;
let dir: string;
let token = '';
const all = await pages();
const only = process.env.DOCS_PAGE;
const order = only ? ['README.md', ...only.split(',').filter((p) => p !== 'README.md')] : all;
const examples = new Map<string, Block[]>();
for (const page of order) {
  const blocks = await blocksOf(page);
  if (blocks.length > 0) examples.set(page, blocks);
}

beforeAll(async () => {
  worker = await startLocalWorker();
  dir = await mkdtemp(path.join(tmpdir(), 'dwc-docs-all-'));
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.sequential('the documentation, run as written', () => {
  it('has examples, and every skipped one says why', () => {
    expect(examples.get('README.md')?.length).toBeGreaterThan(0);
    for (const blocks of examples.values())
      for (const b of blocks) if (b.skip !== undefined) expect(b.skip.length, `${b.file}:${b.line}`).toBeGreaterThan(10);
  });

  for (const [page, blocks] of examples) {
    it(`${page} (${blocks.filter((b) => !b.skip).length} blocks)`, { timeout: 240_000 }, async () => {
      const source = `${script(blocks)}\nprintf '\\n__DOCS_TOKEN=%s\\n' "\${TOKEN:-}"\n`;
      const r = await runScript(source, worker.url, dir, token ? { TOKEN: token } : {});
      expect(r.code, `${page}\n--- stderr ---\n${r.stderr.slice(-4000)}\n--- stdout ---\n${r.stdout.slice(-2000)}`).toBe(0);
      if (page === 'README.md') {
        token = /__DOCS_TOKEN=(\S+)/.exec(r.stdout)?.[1] ?? '';
        expect(token, 'README.md leaves $TOKEN set').not.toBe('');
      }
    });
  }
});
