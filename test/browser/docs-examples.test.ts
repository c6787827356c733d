import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/*
 * The docs' runnable examples, run as written: each block between `<!-- docs-example:start -->`
 * and `<!-- docs-example:end -->` goes to bash (with `set -euo pipefail`, so any failed curl -f or
 * jq fails the test) against the local Worker that the browser project's global setup serves on
 * 127.0.0.1, with `http://localhost:8787` replaced by its address and `$TOKEN` a fresh account's.
 * The CLI's example (docs/cli.md) is run by cli.test.ts.
 */
const ORIGIN = inject('consoleOrigin');
const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSWORD = 'violet-Harbor-lantern-93';

let dir: string;
let token: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dwc-docs-'));
  const username = `docs${Date.now().toString(36)}`;
  const body = JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD });
  const headers = { 'content-type': 'application/json' };
  expect((await fetch(`${ORIGIN}/api/v3/auth/register`, { method: 'POST', headers, body })).status).toBe(201);
  const login = await fetch(`${ORIGIN}/api/v3/auth/login`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  token = ((await login.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function examples(doc: string): Promise<string[]> {
  const text = await readFile(path.join(ROOT, doc), 'utf8');
  return [...text.matchAll(/<!-- docs-example:start -->\n```(?:bash|sh)\n([\s\S]*?)```\n<!-- docs-example:end -->/g)].map((m) => m[1]!);
}

function run(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', `set -euo pipefail\n${script.replaceAll('http://localhost:8787', ORIGIN)}`],
      { cwd: dir, timeout: 60_000, env: { PATH: process.env.PATH, HOME: dir, TOKEN: token } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs examples', () => {
  it('docs/api/workflows.md: versions, search, bulk, export and import', async () => {
    const [block] = await examples('docs/api/workflows.md');
    expect(block).toBeDefined();
    const r = await run(block!);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('Docs blog');
    expect(lines).toContain('{"version":2,"current":true,"run_count":0}');
    expect(lines).toContain('[{"field":"description","before":null,"after":"with a description"}]');
    // The rollback is version 3.
    expect(lines).toContain('3');
    expect(lines).toContain('{"succeeded":2,"failed":0}');
    expect(lines.find((l) => l.startsWith('{"ok":true,"run_id":'))).toBeDefined();
    // Re-importing what was just exported changes nothing.
    expect(lines).toContain('{"created":0,"renamed":0,"new_version":0,"skipped":0,"unchanged":2}');
    expect(r.stdout).toContain('workflow bundle');
  });

  it('docs/observability.md: a run trace, linked to the caller', async () => {
    const [block] = await examples('docs/observability.md');
    expect(block).toBeDefined();
    const r = await run(block!);
    expect(r.code, r.stderr).toBe(0);
    const [link, ...spans] = r.stdout.trim().split('\n');
    expect(link).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spans[0]).toMatch(/^run run \d+ \d+ms ok$/);
    expect(spans.filter((s) => s.startsWith('node '))).toHaveLength(2);
  });
});
