/*
 * The API against its own /openapi.json (issue 25). Every operation the document lists — read
 * from the document, not from a list kept here — is called with each failure a client can meet
 * and the test can provoke (no credentials, ids that name nothing, a body of the wrong shape, a
 * body that is not JSON, a body over the size cap) and with a well-formed request, and every
 * answer is checked against the operation's documented responses: the status is documented, the
 * content type is one listed for it, and a JSON body validates against that status's schema
 * (JSON Schema 2020-12, @cfworker/json-schema). A route that drifts from its spec turns this red.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, poll, registerAndLogin, STRONG_PASSWORD, unique, waitForRun } from '../helpers';
import { connectWs } from '../ws-client';
import { type Answer, conformance, type Operation, operations, pointer, type Spec, sample, schemaChecker } from './openapi-conformance';

let spec: Spec;
let ops: Operation[];
let check: ReturnType<typeof schemaChecker>;
let admin: string;

type Call = { token?: string | undefined; body?: string | undefined; headers?: Record<string, string> };

async function send(method: string, path: string, call: Call): Promise<Answer> {
  const headers: Record<string, string> = { ...call.headers };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await api(method, path, { headers, direct: true, ...(call.body !== undefined ? { body: call.body } : {}) });
  const text = res.json === null ? '' : typeof res.json === 'string' ? res.json : JSON.stringify(res.json);
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
}

const key = (op: Operation) => `${op.method} ${op.path}`;
const jsonBody = (op: Operation) => op.requestBody?.content['application/json'];
const upgrades = (op: Operation) => '101' in op.responses;
/** Ending the session under test would end every later call's session. */
const signsOut = (op: Operation) => /\/logout(-all)?$/.test(op.path);
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '999999');

/** Runs `call` for each operation and gathers every answer that breaks the document. */
async function walk(selected: Operation[], call: (op: Operation) => Promise<Answer | null>, expectStatus?: number) {
  const problems: string[] = [];
  for (const op of selected) {
    const answer = await call(op);
    if (!answer) continue;
    if (expectStatus !== undefined && answer.status !== expectStatus)
      problems.push(`${key(op)}: expected ${expectStatus}, got ${answer.status} ${answer.text.slice(0, 160)}`);
    for (const p of conformance(check, op, answer)) problems.push(`${key(op)}: ${p} — ${answer.text.slice(0, 200)}`);
  }
  return problems;
}

beforeAll(async () => {
  spec = (await api('GET', '/openapi.json')).json as Spec;
  ops = operations(spec);
  check = schemaChecker(spec);
  admin = (await registerAndLogin(unique('confadmin'))).token;
});

describe('every operation of /openapi.json answers as documented', () => {
  it('reads the operations from the document', () => {
    expect(ops.length).toBeGreaterThan(200);
  });

  it('without credentials: 401 on every operation that declares access', async () => {
    const selected = ops.filter((op) => op['x-access'] && !upgrades(op));
    expect(selected.length).toBeGreaterThan(150);
    expect(await walk(selected, (op) => send(op.method, concrete(op.path), {}), 401)).toEqual([]);
  });

  it('as a role the operation does not admit: a documented 403', async () => {
    const viewer = await registerAndLogin(unique('confviewer'));
    await must('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { role: 'viewer' });
    const selected = ops.filter((op) => op['x-access'] && !op['x-access'].roles.includes('viewer') && !upgrades(op));
    expect(selected.length).toBeGreaterThan(50);
    const problems = await walk(
      selected,
      (op) => send(op.method, concrete(op.path), { token: viewer.token, ...(jsonBody(op) ? { body: '{}' } : {}) }),
      403,
    );
    expect(problems).toEqual([]);
  });

  it('with ids that name nothing: a documented answer, never a 5xx', async () => {
    const token = (await registerAndLogin(unique('confids'))).token;
    const selected = ops.filter((op) => /\{/.test(op.path) && !upgrades(op));
    const problems = await walk(selected, async (op) => {
      const body = jsonBody(op)?.schema ? JSON.stringify(sample(spec, jsonBody(op)!.schema!) ?? {}) : undefined;
      const answer = await send(op.method, concrete(op.path), { token: op['x-access'] ? admin : token, body });
      return answer;
    });
    expect(problems).toEqual([]);
  });

  it('with a body of the wrong shape: a documented 4xx', async () => {
    const selected = ops.filter((op) => jsonBody(op) && !signsOut(op));
    const problems = await walk(selected, async (op) => {
      const answer = await send(op.method, concrete(op.path), { token: admin, body: '[1]' });
      return answer.status >= 400 && answer.status < 500 ? answer : { ...answer, text: `not a 4xx: ${answer.text}` };
    });
    expect(problems).toEqual([]);
  });

  it('with a body that is not JSON: 415 on every JSON-body operation', async () => {
    const selected = ops.filter((op) => jsonBody(op) && !op.requestBody!.content['multipart/form-data']);
    const problems = await walk(
      selected,
      (op) =>
        send(op.method, concrete(op.path), { token: admin, body: 'a=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
    );
    expect(problems).toEqual([]);
  });

  it('with a body over the cap: 413 on every operation that takes a body', async () => {
    const selected = ops.filter((op) => op.requestBody);
    // Upload routes take up to UPLOAD_MAX_BYTES plus the form's framing (src/lib/middleware.ts).
    const over = (op: Operation) =>
      op.requestBody!.content['multipart/form-data'] ? Number(env.UPLOAD_MAX_BYTES) + 65_536 : Number(env.MAX_BODY_BYTES);
    const problems = await walk(
      selected,
      (op) => send(op.method, concrete(op.path), { token: admin, body: JSON.stringify({ filler: 'x'.repeat(over(op) + 16) }) }),
      413,
    );
    expect(problems).toEqual([]);
  });
});

/*
 * Well-formed requests. Path ids come from objects this file creates through the API (once, or
 * fresh for an operation that deletes or ends its object); a body is the smallest one the
 * request schema accepts (`sample`), unless REQUESTS below gives one the schema cannot describe
 * well enough to make up (a workflow's nodes, a cron expression). A fixture's body is itself
 * validated against the request schema, so no fixture can hide a request the document refuses.
 */
type Req = {
  params?: Record<string, string | number>;
  query?: Record<string, string>;
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Statuses that count as success here, when not a plain 2xx (a documented 202, 302, 409 on a second call). */
  ok?: number[];
};

const memo = new Map<string, Promise<unknown>>();
const once = <T>(name: string, make: () => Promise<T>): Promise<T> => {
  if (!memo.has(name)) memo.set(name, make());
  return memo.get(name) as Promise<T>;
};

async function must(method: string, path: string, body?: unknown, token = admin) {
  const res = await api(method, path, { token, direct: true, ...(body !== undefined ? { body } : {}) });
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(res.json).slice(0, 300)}`);
  return res.json;
}

const NODES = [
  { id: 'outline', type: 'generate', prompt: 'Outline a note about {{input.topic}}' },
  { id: 'draft', type: 'generate', prompt: 'Write it from:\n{{nodes.outline.output}}', depends_on: ['outline'] },
];

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const asId = (json: { id: number | string }) => json.id;
/** What a browser's PushSubscription.toJSON() gives: a P-256 public key and a 16-byte auth secret. */
async function pushSubscription() {
  const ua = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
  const key = new Uint8Array((await crypto.subtle.exportKey('raw', ua.publicKey)) as ArrayBuffer);
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/${unique('sub')}`,
    keys: { p256dh: b64url(key), auth: b64url(crypto.getRandomValues(new Uint8Array(16))) },
  };
}

/** Objects to act on, made through the API: once for the file, or fresh for an operation that deletes one. */
const makers: Record<string, () => Promise<number | string>> = {
  workflow: async () => asId(await must('POST', '/api/v3/workflows', { name: unique('conf-wf'), nodes: NODES })),
  run: async () => {
    const wf = await one('workflow');
    const run = await must('POST', `/api/v3/workflows/${wf}/runs`, { input: { topic: 'bees' } });
    return (await waitForRun(admin, Number(wf), run.id)).id;
  },
  document: async () => asId(await must('POST', '/api/v3/documents', { title: 'Conformance', content: 'Bees make honey.' })),
  export: async () => {
    const res2 = await api('GET', `/api/v3/documents/${await one('document')}/export?format=pdf&delivery=background`, {
      token: admin,
      direct: true,
    });
    const id = res2.json?.id;
    if (!id) throw new Error(`no export id in ${res2.status} ${JSON.stringify(res2.json).slice(0, 200)}`);
    return id;
  },
  aiWorkflow: async () =>
    asId(await must('POST', '/api/v3/ai-workflows', { name: 'conf', template_name: 'content_generation', input_data: { topic: 'bees' } })),
  apiKey: async () => asId(await must('POST', '/api/v3/auth/api-keys', { name: unique('conf-key'), scopes: ['workflows:read'] })),
  apiKeyRule: async () =>
    asId(await must('POST', `/api/v3/auth/api-keys/${await one('apiKey')}/ip-rules`, { action: 'allow', cidr: '203.0.113.0/24' })),
  invite: async () => asId(await must('POST', '/api/v3/auth/invites', { role: 'viewer' })),
  session: async () => {
    const other = await registerAndLogin(unique('confsess'));
    const sessions = await must('GET', '/api/v3/auth/sessions', undefined, other.token);
    memo.set('sessionToken', Promise.resolve(other.token));
    return sessions.items[0].id;
  },
  user: async () => (await registerAndLogin(unique('confuser'))).user.id,
  automation: async () =>
    asId(
      await must('POST', '/api/v3/automations', {
        name: unique('conf-auto'),
        trigger: { type: 'event_based', conditions: { event_type: 'content_request' } },
        actions: [{ type: 'ai_generation', parameters: { prompt_template: 'Write about {topic}' } }],
      }),
    ),
  task: async () =>
    asId(await must('POST', '/api/v3/background/tasks/submit', { name: 'conf', task_type: 'cleanup', delay_seconds: 3600 })),
  schedule: async () =>
    asId(
      await must('POST', '/api/v3/scheduler/schedules/cron', {
        name: unique('conf-sched'),
        cron_expression: '0 9 * * 1',
        target: { type: 'workflow', workflow_id: await one('workflow'), input: { topic: 'bees' } },
      }),
    ),
  knowledgeBase: async () => asId(await must('POST', '/api/v3/knowledge-bases', { name: unique('conf-kb') })),
  source: async () =>
    asId(
      await must('POST', `/api/v3/knowledge-bases/${await one('knowledgeBase')}/sources`, {
        title: 'Bees',
        content: 'Bees make honey from nectar.',
      }),
    ),
  chunk: async () => {
    const source = await must('GET', `/api/v3/knowledge-bases/${await one('knowledgeBase')}/sources/${await one('source')}`);
    return source.chunks[0].chunk_id;
  },
  mlModel: async () =>
    asId(
      await must('POST', '/api/v3/ml/models', { name: unique('conf-ml'), model_type: 'classification', algorithm: 'logistic_regression' }),
    ),
  mlVersion: async () => {
    const trained = await must('POST', `/api/v3/ml/models/${await one('mlModel')}/train`, { training_data: rows, target_column: 'y' });
    return trained.version.version;
  },
  recModel: async () => asId(await must('POST', '/api/v3/recommendations/models', { name: unique('conf-rec'), algorithm: 'popularity' })),
  template: async () => asId(await must('POST', '/api/v3/notifications/templates', templateBody())),
  delivery: async () => {
    const sent = await must('POST', '/api/v3/notifications/send', {
      channel: 'in_app',
      recipient: String(await adminId()),
      message: 'Later',
      send_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    return sent.deliveries[0].id;
  },
  notification: async () => {
    await must('POST', '/api/v3/notifications/send', { channel: 'in_app', recipient: String(await adminId()), message: 'Hi' });
    const list = await poll(
      () => must('GET', '/api/v3/notifications'),
      (l) => l.items?.length > 0,
      { what: 'the in-app notifications' },
    );
    return list.items[0].id;
  },
  push: async () => asId(await must('POST', '/api/v3/notifications/push/subscriptions', await pushSubscription())),
  ipRule: async () => asId(await must('POST', '/api/v3/security/ip-rules', { action: 'deny', cidr: '198.51.100.0/24' })),
  errorGroup: async () => {
    const list = await must('GET', '/api/v3/admin/errors');
    if (!list.items?.length) throw new Error('no error group recorded yet');
    return list.items[0].id;
  },
};
const templateBody = () => ({ name: unique('conf-tpl'), channel: 'in_app', body: 'Hello {{name}}', variables: [{ name: 'name' }] });
const sendBody = async () => ({ channel: 'in_app', recipient: String(await adminId()), message: 'Hi' });
const rows = Array.from({ length: 20 }, (_, i) => ({ x: i, y: i % 2 }));
/** Three users who each met six items: enough for a model to train and to be evaluated. */
const interactions = ['u1', 'u2', 'u3'].flatMap((user_id, u) =>
  Array.from({ length: 6 }, (_, i) => ({ user_id, item_id: `item${(i + u) % 8}`, interaction_type: 'like' })),
);
const one = (name: string) => once(name, makers[name]!);
const adminId = () => once('adminId', async () => (await must('GET', '/api/v3/auth/me')).id as number);

/** Which object each path parameter names, by the path's prefix. */
const PARAMS: [RegExp, Record<string, string | number>][] = [
  [/^\/api\/v3\/workflows\/\{id\}/, { id: 'workflow', runId: 'run', version: 1 }],
  [/^\/api\/v3\/documents\/\{id\}/, { id: 'document', version: 1 }],
  [/^\/api\/v3\/exports\//, { id: 'export' }],
  [/^\/api\/v3\/ai-workflows\//, { id: 'aiWorkflow' }],
  [/^\/api\/v3\/auth\/api-keys\//, { id: 'apiKey', ruleId: 'apiKeyRule' }],
  [/^\/api\/v3\/auth\/invites\//, { id: 'invite' }],
  [/^\/api\/v3\/auth\/sessions\//, { id: 'session' }],
  [/^\/api\/v3\/auth\/users\//, { id: 'user' }],
  [/^\/api\/v3\/automations\//, { automation_id: 'automation' }],
  [/^\/api\/v3\/background\/tasks\//, { id: 'task' }],
  [/^\/api\/v3\/scheduler\/schedules\//, { id: 'schedule' }],
  [/^\/api\/v3\/knowledge-bases\//, { id: 'knowledgeBase', sourceId: 'source', chunkId: 'chunk' }],
  [/^\/api\/v3\/ml\/models\//, { model_id: 'mlModel', version: 'mlVersion' }],
  [/^\/api\/v3\/recommendations\/models\//, { model_id: 'recModel' }],
  [/^\/api\/v3\/notifications\/templates\//, { id: 'template' }],
  [/^\/api\/v3\/notifications\/deliveries\//, { id: 'delivery' }],
  [/^\/api\/v3\/notifications\/push\//, { id: 'push' }],
  [/^\/api\/v3\/notifications\/\{id\}/, { id: 'notification' }],
  [/^\/api\/v3\/notifications\/channels\//, { channel: 'webhook', name: 'conformance' }],
  [/^\/api\/v3\/security\/ip-rules\//, { id: 'ipRule' }],
  [/^\/api\/v3\/security\/rate-limits\//, { name: 'user-minute' }],
  [/^\/api\/v3\/costs\/prices\//, { provider: 'openai', model: 'gpt-conformance' }],
  [/^\/api\/v3\/costs\/budgets\//, { userId: 'user' }],
  [/^\/api\/v3\/metrics\/(metrics\/)?\{type\}/, { type: 'counter' }],
  [/^\/api\/v3\/metrics\/families\//, { name: 'dwc_http_requests_total' }],
  [/^\/api\/v3\/admin\/errors\//, { id: 'errorGroup' }],
  [/^\/api\/v3\/schemas\/workflow-bundle\//, { version: 'v1' }],
  [/^\/docs\/assets\//, { file: 'swagger-init.js' }],
  [/^\/console\//, { asset: 'app.js' }],
];

/** A value for a path parameter of `op`: a fresh object when the operation deletes the object it names. */
async function param(op: Operation, name: string): Promise<string | number> {
  const entry = PARAMS.find(([re]) => re.test(op.path));
  const ref = entry?.[1][name];
  if (ref === undefined) throw new Error(`no value for {${name}} in ${op.method} ${op.path}`);
  if (typeof ref === 'number' || !makers[ref]) return ref;
  return op.method === 'DELETE' && op.path.endsWith(`{${name}}`) ? makers[ref]!() : one(ref);
}

/** A second session, for the operations that end the session they are called with. */
const spareSession = async () => (await registerAndLogin(unique('confspare'))).token;

const REQUESTS: Record<string, () => Promise<Req> | Req> = {
  // After the first administrator exists, bootstrapping again is a documented 409.
  'POST /api/v3/auth/bootstrap': () => ({
    headers: { 'x-bootstrap-secret': env.BOOTSTRAP_SECRET },
    body: { username: unique('confboot'), email: `${unique('b')}@example.com`, password: STRONG_PASSWORD },
    ok: [409],
  }),
  'POST /api/v3/auth/register': () => ({
    body: { username: unique('confreg'), email: `${unique('r')}@example.com`, password: STRONG_PASSWORD },
  }),
  'POST /api/v3/auth/login': async () => ({ body: { username: await confUser(), password: STRONG_PASSWORD } }),
  'POST /api/v3/security/auth/login': async () => ({ body: { username: await confUser(), password: STRONG_PASSWORD } }),
  'POST /api/v3/auth/logout': async () => ({ token: await spareSession() }),
  'POST /api/v3/auth/logout-all': async () => ({ token: await spareSession() }),
  'DELETE /api/v3/auth/sessions/{id}': async () => {
    const id = await makers.session!();
    return { params: { id }, token: (await memo.get('sessionToken')) as string };
  },
  'POST /api/v3/workflows/{id}/runs': () => ({ body: { input: { topic: 'bees' } } }),
  'POST /api/v3/workflows/{id}/runs/estimate': () => ({ body: { input: { topic: 'bees' } } }),
  'POST /api/v3/workflows/bulk': async () => ({ body: { action: 'archive', ids: [await makers.workflow!()] } }),
  'POST /api/v3/notifications/push/subscriptions': async () => ({ body: await pushSubscription() }),
  'POST /api/v3/scheduler/schedules/preview': () => ({ body: { cron_expression: '0 9 * * 1' } }),
  'POST /api/v3/background/tasks/submit': async () => ({
    body: { name: 'conf', task_type: 'workflow_run', payload: { workflow_id: await one('workflow'), input: { topic: 'bees' } } },
  }),
  'POST /api/v3/background/tasks/bulk/submit': () => ({ body: { tasks: [{ name: 'conf', task_type: 'cleanup' }] } }),
  'POST /api/v3/auth/refresh': async () => ({ body: { refresh_token: (await registerAndLogin(unique('confrefresh'))).refresh } }),
  'POST /api/v3/auth/reauthenticate': () => ({ body: { password: STRONG_PASSWORD } }),
  'POST /api/v3/auth/password': async () => ({
    token: await spareSession(),
    body: { current_password: STRONG_PASSWORD, new_password: 'amber-Meadow-compass-58' },
  }),
  // Well-formed, but about something this file cannot hold: a mailed token, an authenticator's
  // code, MFA that is not enabled, a signed webhook. The documented refusal is the answer.
  'POST /api/v3/auth/email/verify': () => ({ ok: [400] }),
  'POST /api/v3/auth/password/reset': () => ({ ok: [400] }),
  'POST /api/v3/auth/mfa/confirm': () => ({ ok: [400] }),
  'POST /api/v3/auth/mfa/verify': () => ({ ok: [401] }),
  'POST /api/v3/auth/mfa/disable': () => ({ ok: [409] }),
  'POST /api/v3/auth/mfa/recovery-codes': () => ({ ok: [409] }),
  'POST /api/v3/automations/{automation_id}/webhook': () => ({ ok: [401] }),
  // No unhandled error happens in this file, so there is no error group to read.
  'GET /api/v3/admin/errors/{id}': () => ({ params: { id: 999999 }, ok: [404] }),
  // The run has finished: a decision now is a documented conflict.
  'POST /api/v3/workflows/{id}/runs/{runId}/events': () => ({
    body: { type: 'approval', node_id: 'draft', decision: 'approve' },
    ok: [409],
  }),
  'PUT /api/v3/security/rate-limits/{name}': () => ({ body: { subject: 'user', route_class: 'all', limit: 100_000, window_seconds: 60 } }),
  'POST /api/v3/notifications/send': async () => ({ body: await sendBody() }),
  'POST /api/v3/advanced/notifications/send': async () => ({ body: await sendBody() }),
  'POST /api/v3/notifications/send/bulk': async () => ({
    body: { channel: 'in_app', recipients: [String(await adminId())], message: 'Hi' },
  }),
  'PUT /api/v3/notifications/channels/{channel}/{name}': () => ({ body: { settings: { url: 'https://hooks.example.com/conformance' } } }),
  'DELETE /api/v3/notifications/channels/{channel}/{name}': async () => {
    const name = unique('confch');
    await must('PUT', `/api/v3/notifications/channels/webhook/${name}`, { settings: { url: 'https://hooks.example.com/conformance' } });
    return { params: { channel: 'webhook', name } };
  },
  'POST /api/v3/notifications/templates': () => ({ body: templateBody() }),
  'PUT /api/v3/notifications/templates/by-id/{id}': () => ({ body: templateBody() }),
  'POST /api/v3/recommendations/recommendations': async () => ({ body: { model_id: await one('recModel'), user_id: 'u1' } }),
  // The signed link GET /exports/{id} gives once the file is built.
  'GET /api/v3/exports/{id}/file': async () => {
    const id = await one('export');
    const job = await poll(
      () => must('GET', `/api/v3/exports/${id}`),
      (j) => Boolean(j.signed_url) || !['queued', 'running'].includes(j.status),
      { what: `export ${id}` },
    );
    if (!job.signed_url) throw new Error(`the export ended ${job.status}`);
    const url = new URL(job.signed_url, 'http://x');
    return { params: { id }, query: Object.fromEntries(url.searchParams), token: '' };
  },
  'GET /api/v3/notifications/push/vapid-public-key': async () => {
    await must('PUT', '/api/v3/notifications/channels/push/default?scope=global', { settings: { subject: 'mailto:ops@acme.example' } });
    return {};
  },
  'POST /api/v3/advanced/workflows/execute': async () => ({ body: { workflow_id: await one('workflow'), parameters: { topic: 'bees' } } }),
  'POST /api/v3/ai-workflows': () => ({ body: { name: 'conf', template_name: 'content_generation', input_data: { topic: 'bees' } } }),
  'POST /api/v3/ml/models/{model_id}/train': () => ({ body: { training_data: rows, target_column: 'y' } }),
  'POST /api/v3/recommendations/interactions/bulk': () => ({ body: { interactions } }),
};

/** A user who signs in with a password (the login operations' subject). */
const confUser = () =>
  once('confUser', async () => {
    const username = unique('conflogin');
    await registerAndLogin(username);
    return username;
  });

async function wellFormed(op: Operation): Promise<{ url: string; call: Call; ok: number[]; problems: string[] }> {
  const fixture = REQUESTS[key(op)] ? await REQUESTS[key(op)]!() : {};
  const problems: string[] = [];
  let url = op.path;
  for (const m of op.path.matchAll(/\{([^}]+)\}/g)) {
    const value = fixture.params?.[m[1]!] ?? (await param(op, m[1]!));
    url = url.replace(m[0], encodeURIComponent(String(value)));
  }
  const query = new URLSearchParams(fixture.query);
  for (const p of op.parameters)
    if (p.in === 'query' && p.required && !query.has(p.name)) query.set(p.name, String(sample(spec, p.schema ?? {}) ?? 'x'));
  if (query.size) url += `?${query}`;
  const schema = jsonBody(op)?.schema;
  let body: string | undefined;
  const at = `/${pointer('paths', op.path, op.method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema')}`;
  if ('body' in fixture) {
    body = JSON.stringify(fixture.body);
    if (schema) for (const e of check(at, fixture.body)) problems.push(`the fixture's body is outside the request schema: ${e}`);
  } else if (schema) {
    const made = sample(spec, schema);
    if (made === undefined)
      problems.push('no body: the request schema has a pattern or shape this test cannot make up; add it to REQUESTS');
    else {
      body = JSON.stringify(made);
      for (const e of check(at, made)) problems.push(`the made-up body is outside the request schema (add it to REQUESTS): ${e}`);
    }
  }
  return { url, call: { token: fixture.token ?? admin, body, headers: fixture.headers ?? {} }, ok: fixture.ok ?? [], problems };
}

describe('a well-formed request to every operation', () => {
  it('succeeds, and its answer is documented', async () => {
    // Operations that end or delete what others use go last.
    const last = (op: Operation) => (op.method === 'DELETE' || signsOut(op) ? 1 : 0);
    const selected = ops.filter((op) => !upgrades(op)).sort((a, b) => last(a) - last(b));
    const problems: string[] = [];
    for (const op of selected) {
      let req: Awaited<ReturnType<typeof wellFormed>>;
      try {
        req = await wellFormed(op);
      } catch (e) {
        problems.push(`${key(op)}: ${(e as Error).message}`);
        continue;
      }
      problems.push(...req.problems.map((p) => `${key(op)}: ${p}`));
      const answer = await send(op.method, req.url, req.call);
      const ok = (answer.status >= 200 && answer.status < 300) || req.ok.includes(answer.status);
      if (!ok) problems.push(`${key(op)}: ${answer.status} to a well-formed request — ${answer.text.slice(0, 240)}`);
      for (const p of conformance(check, op, answer, spec)) problems.push(`${key(op)}: ${p} — ${answer.text.slice(0, 200)}`);
    }
    if (problems.length) console.log(`PROBLEMS\n${problems.join('\n')}\nEND`);
    expect(problems).toEqual([]);
  }, 300_000);
});

describe('the WebSocket doors', () => {
  it('upgrade (101) with a ticket, and answer a documented 401 without one', async () => {
    const selected = ops.filter(upgrades);
    expect(selected.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const op of selected) {
      const { ticket } = await must('POST', '/api/v3/ws/ticket');
      const c = await connectWs({ path: op.path, query: `ticket=${encodeURIComponent(ticket)}` });
      if (c.res.status !== 101) problems.push(`${key(op)}: ${c.res.status} with a ticket`);
      else await c.waitFor((f) => f.type === 'welcome');
      c.close();
      const refused = await connectWs({ path: op.path });
      const answer = {
        status: refused.res.status,
        contentType: refused.res.headers.get('content-type') ?? '',
        text: await refused.res.text(),
      };
      if (answer.status !== 401) problems.push(`${key(op)}: ${answer.status} without credentials`);
      for (const p of conformance(check, op, answer, spec)) problems.push(`${key(op)}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
