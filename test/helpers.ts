import { createExecutionContext, env, SELF, waitOnExecutionContext } from 'cloudflare:test';
import { expect, vi } from 'vitest';
import worker from '../src/index';

export const BASE = 'http://127.0.0.1:8787';
export const STRONG_PASSWORD = 'violet-Harbor-lantern-93';

type Options = {
  token?: string;
  apiKey?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Call the worker's fetch handler in this isolate instead of through SELF. Same middleware,
   * routing and bindings; used by tests that make thousands of requests, because every SELF.fetch
   * in @cloudflare/vitest-pool-workers 0.14 wraps the entrypoint prototype in one more Proxy
   * (cloudflare/workers-sdk#15092), which slows each later call and overflows the stack after a
   * few thousand.
   */
  direct?: boolean;
  /** Call the fetch handler directly (as `direct`) with these bindings: a differently configured deployment over the same storage. */
  env?: Env;
};

async function send(url: string, init: RequestInit, direct?: boolean, bindings?: Env) {
  if (!direct && !bindings) return SELF.fetch(url, init);
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(url, init), bindings ?? env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A request through the whole worker (middleware, routing, bindings), as a client would make it. */
export async function api(method: string, path: string, opts: Options = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.apiKey) headers['x-api-key'] = opts.apiKey;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await send(`${BASE}${path}`, { method, headers, body }, opts.direct, opts.env);
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

let counter = 0;
export const unique = (prefix = 'user') => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

type Registered = { id: number; username: string; role: string };

/** The first administrator, made as a deployment makes it: out of band, with the bootstrap secret (.dev.vars). */
export async function bootstrapAdmin(username = unique('admin')): Promise<Registered | null> {
  const res = await api('POST', '/api/v3/auth/bootstrap', {
    headers: { 'x-bootstrap-secret': env.BOOTSTRAP_SECRET },
    body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
  });
  if (res.status === 409 && res.json.error.message.includes('administrator already exists')) return null;
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

/**
 * A new account. Each test file has a database of its own, and the first account a file creates
 * is that database's administrator, bootstrapped out of band as a real deployment's first admin
 * is; every later one self-registers under the development policy (open, as editor). Tests
 * written when the first registration made an admin keep their meaning.
 */
export async function register(username = unique()): Promise<Registered> {
  if ((await count('users')) === 0) {
    const admin = await bootstrapAdmin(username);
    if (admin) return admin;
  }
  const res = await api('POST', '/api/v3/auth/register', {
    body: { username, email: `${username}@example.com`, password: STRONG_PASSWORD },
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

export async function login(username: string, password = STRONG_PASSWORD) {
  const res = await api('POST', '/api/v3/auth/login', { body: { username, password } });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { access_token: string; refresh_token: string; user: { id: number; role: string } };
}

export async function registerAndLogin(username = unique()) {
  const user = await register(username);
  const tokens = await login(username);
  return { user, token: tokens.access_token, refresh: tokens.refresh_token };
}

/**
 * The bindings of a production deployment over this file's storage: ENVIRONMENT=production and
 * secrets that are not development values (different ones, so tokens and password hashes made
 * with the development secrets do not carry over). `overrides` change single variables.
 */
export function productionEnv(overrides: Partial<Record<keyof Env, string>> = {}): Env {
  return {
    ...env,
    ENVIRONMENT: 'production',
    JWT_SECRET: 'prod-test-jwt-secret-6c1f0e9b2a8d4e7f9a0b1c2d3e4f5a6b',
    PASSWORD_PEPPER: 'prod-test-pepper-8e2d4c6a0b1f3e5d',
    ENCRYPTION_KEYS: 'prod:Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXktMDE',
    BOOTSTRAP_SECRET: 'prod-test-bootstrap-secret-4f3e2d1c0b9a8f7e6d5c',
    ...overrides,
  } as Env;
}

/** Asserts the one error shape every failure uses. */
export function expectError(res: { status: number; json: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  expect(res.json).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } });
  expect(JSON.stringify(res.json)).not.toMatch(/at .*\.(ts|js):\d+/);
}

export async function count(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row!.n;
}

/** Row counts of every table, to prove a rejected request wrote nothing. */
export async function snapshot() {
  const tables = ['users', 'sessions', 'refresh_tokens', 'api_keys', 'workflows', 'workflow_versions', 'audit_log'];
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)] as const)));
}

export const simpleNodes = [
  { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
  { id: 'draft', type: 'generate', prompt: 'Write the article from:\n{{nodes.outline.output}}', depends_on: ['outline'] },
  { id: 'headline', type: 'title', depends_on: ['draft'] },
];

export type RunJson = {
  id: number;
  status: string;
  error: string | null;
  input: Record<string, unknown>;
  workflow_version: number;
  output: Record<string, { text: string; document_id: number | null }> | null;
  nodes: {
    id: string;
    status: string;
    attempts: number;
    error: string | null;
    output: { text: string; title: string | null; document_id: number | null; data: any } | null;
    child_run_id: number | null;
    started_at: string | null;
    finished_at: string | null;
    waiting_until: string | null;
    progress: { total: number; succeeded: number; failed: number; running: number; pending: number } | null;
    iteration: number | null;
    tokens_in: number;
    tokens_out: number;
    reused_from_run_id: number | null;
  }[];
  attempts: {
    node_id: string;
    attempt: number;
    status: string;
    delay_ms: number;
    error: string | null;
    provider: string | null;
    model: string | null;
    started_at: string;
  }[];
  last_event_seq: number;
  forked_from: { run_id: number; node_id: string } | null;
  forks: number[];
};

export async function createWorkflow(token: string, body: unknown): Promise<{ id: number; version: number }> {
  const res = await api('POST', '/api/v3/workflows', { token, body });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

export async function startRun(
  token: string,
  workflowId: number,
  input: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await api('POST', `/api/v3/workflows/${workflowId}/runs`, { token, body: { input }, headers });
  expect([200, 201], JSON.stringify(res.json)).toContain(res.status);
  return res.json as RunJson;
}

export async function getRun(token: string, workflowId: number, runId: number): Promise<RunJson> {
  const res = await api('GET', `/api/v3/workflows/${workflowId}/runs/${runId}`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
}

/**
 * The one polling helper: reads `read()` until `until` holds and returns that value, or fails
 * after `timeoutMs` with the last value read. For state that something else moves along (alarms,
 * the local queue's consumers): a test never sleeps for a fixed time and hopes.
 */
export async function poll<T>(
  read: () => Promise<T>,
  until: (value: T) => boolean,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  let last: T | undefined;
  return vi.waitFor(
    async () => {
      last = await read();
      if (!until(last)) throw new Error(`${opts.what ?? 'the value'} did not reach the expected state: ${JSON.stringify(last)}`);
      return last;
    },
    { timeout: opts.timeoutMs ?? 15_000, interval: opts.intervalMs ?? 40 },
  );
}

/** Polls a run until `done` holds (default: a terminal status); alarms drive it in the background. */
export const waitForRun = (
  token: string,
  workflowId: number,
  runId: number,
  done: (r: RunJson) => boolean = (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status),
  timeoutMs = 15_000,
): Promise<RunJson> => poll(() => getRun(token, workflowId, runId), done, { timeoutMs, what: `run ${runId}` });

/** Lets the fake provider answer every call of `hold-<tag>`, held and future (test/fake-llm.ts). */
export async function releaseLlm(tag: string): Promise<void> {
  await fetch(`http://llm.test/control?release=${tag}`);
}

export async function llmStats(tag: string): Promise<{ calls: number; prompts: string[]; traceparents: (string | null)[] }> {
  return (await fetch(`http://llm.test/stats?tag=${tag}`)).json();
}
