import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

/*
 * `dwc` end to end: the built CLI (bin/dwc.mjs, as `npx dwc` runs it) in a child process against
 * the whole Worker that the browser project's global setup serves on 127.0.0.1 (as `npm run dev`
 * does). Each test reads what the CLI printed and checks the deployment through the API.
 */
const ORIGIN = inject('consoleOrigin');
const ROOT = path.resolve(import.meta.dirname, '../..');
const PASSWORD = 'violet-Harbor-lantern-93';

type Result = { code: number; stdout: string; stderr: string };

let home: string;
let env: NodeJS.ProcessEnv;
let token: string;

function dwc(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin/dwc.mjs'), ...args], { env, cwd: home, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function api<T = any>(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${ORIGIN}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

const BLOG = `name: CLI blog post
description: outline, draft, title
tags: [cli]
nodes:
  - id: outline
    type: generate
    prompt: "Outline an article about {{input.topic}}"
  - id: draft
    type: generate
    prompt: "Write the article from: {{nodes.outline.output}}"
    depends_on: [outline]
  - id: headline
    type: title
    depends_on: [draft]
`;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'dwc-cli-'));
  const username = `cli${Date.now().toString(36)}`;
  const reg = await fetch(`${ORIGIN}/api/v3/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
  });
  expect(reg.status, await reg.clone().text()).toBe(201);
  // Only what the CLI needs: no inherited DWC_* variable may point it elsewhere.
  env = { PATH: process.env.PATH, HOME: home, DWC_CONFIG: path.join(home, 'config', 'dwc.json'), DWC_PASSWORD: PASSWORD };
  const login = await dwc('login', '--url', ORIGIN, '--username', username);
  expect(login.code, login.stderr).toBe(0);
  expect(login.stderr).toContain(`as ${username}`);
  const config = JSON.parse(await readFile(env.DWC_CONFIG!, 'utf8'));
  expect(config.url).toBe(ORIGIN);
  token = config.credentials.accessToken;
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe('the dwc CLI against a local worker', () => {
  it('keeps the credentials in a config file only its owner can read', async () => {
    expect((await stat(env.DWC_CONFIG!)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(env.DWC_CONFIG!))).mode & 0o777).toBe(0o700);
  });

  it('pushes a folder (plan first, --yes applies, a second push changes nothing), then starts a run with --follow and sees its events', async () => {
    const folder = path.join(home, 'workflows');
    await rm(folder, { recursive: true, force: true });
    await mkdir(folder);
    await writeFile(path.join(folder, 'blog-post.yaml'), BLOG);

    const plan = await dwc('workflows', 'push', folder);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^created\s+blog-post \(CLI blog post\)/m);
    expect(plan.stderr).toContain('Run again with --yes');
    // Without --yes nothing was written.
    expect((await api('GET', '/api/v3/workflows?q=CLI%20blog')).json.items).toEqual([]);

    const applied = await dwc('workflows', 'push', folder, '--yes');
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/Applied: 1 created/);
    const [wf] = (await api('GET', '/api/v3/workflows?q=CLI%20blog')).json.items;
    expect(wf).toMatchObject({ name: 'CLI blog post', tags: ['cli'] });

    const again = await dwc('workflows', 'push', folder, '--yes');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^unchanged\s+blog-post/m);
    expect(again.stderr).toContain('Nothing to change.');

    // An edit shows as a node-level diff, and applying it makes a new version of the same workflow.
    await writeFile(path.join(folder, 'blog-post.yaml'), BLOG.replace('Outline an article', 'Outline a short article'));
    const edited = await dwc('workflows', 'push', folder, '--yes');
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/~ node outline\.prompt: "Outline an article about \{\{input\.topic\}\}" -> "Outline a short article/);
    const versions = await api('GET', `/api/v3/workflows/${wf.id}/versions`);
    expect(versions.json.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    await writeFile(path.join(home, 'input.json'), JSON.stringify({ topic: 'beekeeping in cities' }));
    const run = await dwc('runs', 'start', 'CLI blog post', '--input', 'input.json', '--follow');
    expect(run.code, run.stderr).toBe(0);
    const events = run.stderr
      .split('\n')
      .map((l) => /^\[(\d+)\] (\S+)(?: (\S+))?/.exec(l))
      .filter((m) => m !== null);
    const types = events.map((m) => m[2]);
    expect(types[0]).toBe('run.created');
    expect(types.at(-1)).toBe('run.succeeded');
    expect(events.filter((m) => m[2] === 'node.succeeded').map((m) => m[3])).toEqual(['outline', 'draft', 'headline']);
    // The generated text streamed to stdout.
    expect(run.stdout).toMatch(/beekeeping/i);

    const runId = Number(/^run (\d+) of workflow/m.exec(run.stderr)![1]);
    const logs = await dwc('runs', 'logs', String(wf.id), String(runId));
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stderr.split('\n').filter((l) => l.startsWith('['))).toEqual(
      run.stderr.split('\n').filter((l) => l.startsWith('[') && !l.includes('node.token')),
    );

    // pull writes the current definition back: the folder round-trips.
    const pulled = path.join(home, 'pulled');
    const pull = await dwc('workflows', 'pull', pulled, '--tag', 'cli');
    expect(pull.code, pull.stderr).toBe(0);
    const files = await readdir(pulled);
    expect(files).toHaveLength(1);
    expect(pull.stderr).toContain(`wrote ${path.join(pulled, files[0]!)}`);
    const back = parse(await readFile(path.join(pulled, files[0]!), 'utf8'));
    expect(back).toMatchObject({ name: 'CLI blog post', tags: ['cli'] });
    expect(back.nodes[0].prompt).toBe('Outline a short article about {{input.topic}}');
    const repush = await dwc('workflows', 'push', pulled);
    expect(repush.stderr).toContain('Nothing to change.');

    // documents export: the run's final document as Markdown.
    const detail = await api('GET', `/api/v3/workflows/${wf.id}/runs/${runId}`);
    const docId = detail.json.nodes.find((n: any) => n.id === 'draft').output.document_id;
    expect(docId).toBeTypeOf('number');
    const exported = await dwc('documents', 'export', String(docId), '--format', 'md', '--out', 'draft.md');
    expect(exported.code, exported.stderr).toBe(0);
    expect(await readFile(path.join(home, 'draft.md'), 'utf8')).toMatch(/beekeeping/i);
  });

  it('answers a bad request with the API error and a non-zero exit, and a failed run with exit 1', async () => {
    const missing = await dwc('runs', 'start', 'no such workflow anywhere');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('No workflow named "no such workflow anywhere"');

    const badPolicy = await dwc('workflows', 'push', path.join(home, 'workflows'), '--policy', 'overwrite');
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toMatch(/validation_error, HTTP 400/);

    // A map over something that is not a list fails its node, and so the run.
    const failing = await api('POST', '/api/v3/workflows', {
      name: `cli failing ${Date.now()}`,
      nodes: [
        { id: 'each', type: 'map', items: '{{input.list}}', node: { type: 'transform', source: '{{item}}', operations: [{ op: 'trim' }] } },
      ],
    });
    expect(failing.status, JSON.stringify(failing.json)).toBe(201);
    await writeFile(path.join(home, 'bad.json'), JSON.stringify({ list: 'not a list' }));
    const run = await dwc('runs', 'start', String(failing.json.id), '--input', 'bad.json', '--follow');
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/node\.failed each: items must be a list/);
    expect(run.stderr).toMatch(/\] run\.failed/);
  });

  it('runs the example of docs/cli.md as written', async () => {
    const doc = await readFile(path.join(ROOT, 'docs/cli.md'), 'utf8');
    const block = /<!-- cli-example:start -->\n```sh\n([\s\S]*?)```\n<!-- cli-example:end -->/.exec(doc)?.[1];
    expect(block).toBeDefined();
    const dir = await mkdtemp(path.join(home, 'docs-'));
    const username = `docs${Date.now().toString(36)}`;
    const reg = await fetch(`${ORIGIN}/api/v3/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
    });
    expect(reg.status).toBe(201);
    // `npx dwc` resolves this package's bin only inside the checkout; the example runs in a
    // scratch folder, so npx is the same bin here (and nothing can be fetched from a registry).
    const script = `npx() { [ "$1" = dwc ] || exit 97; shift; node "${ROOT}/bin/dwc.mjs" "$@"; }\nset -euo pipefail\n${block!.replaceAll('http://localhost:8787', ORIGIN)}`;
    const result = await new Promise<Result>((resolve) => {
      execFile(
        'bash',
        ['-c', script],
        {
          cwd: dir,
          timeout: 90_000,
          env: { PATH: process.env.PATH, HOME: dir, DWC_CONFIG: path.join(dir, 'dwc.json'), DWC_USER: username },
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^created\s+blog-post \(Docs blog post\)/m);
    expect(result.stderr).toMatch(/\] run\.succeeded/);
    expect(await readFile(path.join(dir, 'article.txt'), 'utf8')).toMatch(/beekeeping/i);
    expect(await readdir(path.join(dir, 'pulled'))).toHaveLength(1);
  });
});
