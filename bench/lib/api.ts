import { randomUUID } from 'node:crypto';
import { request } from './http';

/**
 * The few calls of our public API that scenarios need to set themselves up, made over HTTP to
 * 127.0.0.1 exactly as a client would. Every scenario registers its own user, so no state leaks
 * between scenarios even when they share a worker.
 */
export type Session = { base: string; token: string; userId: number; username: string };

async function call<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const init = {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    retry: method === 'GET' || headers['idempotency-key'] !== undefined,
  };
  let res: Response;
  try {
    res = await request(base + path, init);
  } catch (err) {
    throw new Error(`${method} ${path} failed`, { cause: err });
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : null) as T;
}

let users = 0;

/** The committed development bootstrap secret (.dev.vars), which the bench's local workers run with. */
const DEV_BOOTSTRAP_SECRET = 'dev-only-bootstrap-secret-0123456789abcdef';

/**
 * Registers a fresh user (strong password, so zxcvbn accepts it) and signs in. The first user of a
 * fresh worker is made its administrator the way a deployment makes one (the bootstrap secret);
 * every later one self-registers (as editor, the development default).
 */
export async function newSession(base: string, label: string): Promise<Session> {
  const username = `bench-${label}-${Date.now().toString(36)}-${++users}`;
  const password = 'violet-Harbor-lantern-93-bench';
  const account = { username, email: `${username}@bench.invalid`, password };
  try {
    await call(base, 'POST', '/api/v3/auth/bootstrap', account, undefined, { 'x-bootstrap-secret': DEV_BOOTSTRAP_SECRET });
  } catch (err) {
    if (!String(err).includes('answered 409')) throw err;
    await call(base, 'POST', '/api/v3/auth/register', account);
  }
  const login = await call<{ access_token: string; user: { id: number } }>(base, 'POST', '/api/v3/auth/login', { username, password });
  return { base, token: login.access_token, userId: login.user.id, username };
}

/**
 * Lifts the per-user request limits (the `user-minute` and `user-hour` policies) to ten million,
 * for a user that drives sustained load; it must be the admin, i.e. the first user of a fresh
 * worker. Every request is still counted by the user's limiter object, so the cost of rate
 * limiting stays in the measured figures; only the 429s a load generator provokes are gone.
 */
export async function liftUserRateLimits(s: Session): Promise<void> {
  for (const [name, window_seconds] of [
    ['user-minute', 60],
    ['user-hour', 3600],
  ] as const) {
    await call(
      s.base,
      'PUT',
      `/api/v3/security/rate-limits/${name}`,
      { subject: 'user', route_class: 'all', limit: 10_000_000, window_seconds },
      s.token,
    );
  }
}

export type NodeDef = Record<string, unknown> & { id: string; type: string };

export async function createWorkflow(s: Session, name: string, nodes: NodeDef[], settings: Record<string, unknown> = {}): Promise<number> {
  const wf = await call<{ id: number }>(s.base, 'POST', '/api/v3/workflows', { name, nodes, settings }, s.token);
  return wf.id;
}

export async function startRun(s: Session, workflowId: number, input: Record<string, unknown>): Promise<number> {
  // The key makes the launch safe to repeat: the API answers a repeat with the same run.
  const run = await call<{ id?: number; run_id?: number }>(s.base, 'POST', `/api/v3/workflows/${workflowId}/runs`, { input }, s.token, {
    'idempotency-key': randomUUID(),
  });
  const id = run.id ?? run.run_id;
  if (typeof id !== 'number') throw new Error(`run launch answered without an id: ${JSON.stringify(run).slice(0, 200)}`);
  return id;
}

export async function getJson<T>(s: Session, path: string): Promise<T> {
  return call<T>(s.base, 'GET', path, undefined, s.token);
}

/** The paths our OpenAPI document declares: how the runner tells a built feature from a missing one. */
export async function declaredPaths(base: string): Promise<Set<string>> {
  const doc = await call<{ paths?: Record<string, unknown> }>(base, 'GET', '/openapi.json');
  return new Set(Object.keys(doc.paths ?? {}));
}

/** A linear chain of `n` transform nodes (`trim`): node i depends on node i-1. */
export function transformChain(n: number): NodeDef[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `n${i}`,
    type: 'transform',
    ...(i === 0 ? { source: '{{input.text}}' } : { depends_on: [`n${i - 1}`] }),
    operations: [{ op: 'trim' }],
  }));
}
