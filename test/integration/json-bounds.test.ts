import { SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, BASE, count, createWorkflow, expectError, registerAndLogin, simpleNodes, unique } from '../helpers';

/*
 * Issue 17, finding 6 (and the UTF-8/NUL part of 10): free-form JSON is bounded at every entry
 * point. A run input nested ~5,000 deep used to answer 500 (the Durable Object RPC overflowed the
 * stack) after its D1 row was written, leaving a run queued forever; through tasks and schedules
 * it was accepted and died after retries. Now an over-deep value is a 400 before anything is
 * written: past 64 levels any body is refused as it arrives; past 32 the field's schema refuses
 * it, naming the field.
 */
/** `{"a":{"a":…}}` nested `n` deep, built without recursion. */
function deep(n: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
}

let token: string;
let workflowId: number;
let automationId: string;

const TABLES = ['runs', 'tasks', 'schedules', 'automation_executions', 'automations', 'notification_deliveries', 'documents'];
const rows = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await count(t)] as const)));

beforeAll(async () => {
  token = (await registerAndLogin(unique('deep'))).token;
  workflowId = (await createWorkflow(token, { name: 'deep', nodes: simpleNodes })).id;
  const automation = await api('POST', '/api/v3/automations', {
    token,
    body: {
      name: 'deep',
      trigger: { type: 'api_call' },
      actions: [{ type: 'run_workflow', parameters: { workflow_id: workflowId } }],
    },
  });
  expect(automation.status, JSON.stringify(automation.json)).toBe(201);
  automationId = automation.json.id;
});

/** Every entry point that takes free-form JSON, with `value` where the free-form JSON goes. */
const entryPoints = (value: unknown): [string, string, string, unknown][] => [
  ['run input', 'POST', `/api/v3/workflows/${workflowId}/runs`, { input: value }],
  ["the seeds' execute", 'POST', '/api/v3/advanced/workflows/execute', { workflow_id: workflowId, parameters: value }],
  [
    'a workflow_run task',
    'POST',
    '/api/v3/background/tasks/submit',
    { name: 't', task_type: 'workflow_run', payload: { workflow_id: workflowId, input: value } },
  ],
  ['a webhook task body', 'POST', '/api/v3/background/tasks/submit', { name: 't', task_type: 'webhook_call', payload: value }],
  [
    'a schedule target',
    'POST',
    '/api/v3/scheduler/schedules/interval',
    { name: 's', every_seconds: 3600, target: { type: 'workflow', workflow_id: workflowId, input: value } },
  ],
  ['automation trigger data', 'POST', `/api/v3/automations/${automationId}/trigger`, { trigger_data: value }],
  ['automation context', 'POST', `/api/v3/automations/${automationId}/trigger`, { context: value }],
  [
    'an automation action input',
    'POST',
    '/api/v3/automations',
    {
      name: 'x',
      trigger: { type: 'api_call' },
      actions: [{ type: 'run_workflow', parameters: { workflow_id: workflowId, input: value } }],
    },
  ],
  ['notification data', 'POST', '/api/v3/notifications/send', { channel: 'in_app', recipient: 'me', message: 'm', data: value }],
  ['document metadata', 'POST', '/api/v3/documents', { title: 't', content: 'c', metadata: value }],
];

describe('over-deep JSON', () => {
  it('nested 10,000 deep answers 400 at every entry point and writes nothing', async () => {
    const before = await rows();
    for (const [what, method, path, body] of entryPoints(deep(10_000))) {
      const res = await api(method, path, { token, body });
      expect(res.status, `${what}: ${JSON.stringify(res.json).slice(0, 300)}`).toBe(400);
    }
    expect(await rows()).toEqual(before);
  });

  it('nested 40 deep is refused by the field schema, which names the field', async () => {
    const before = await rows();
    for (const [what, method, path, body] of entryPoints(deep(40))) {
      const res = await api(method, path, { token, body });
      expectError(res, 400, 'validation_error');
      expect(JSON.stringify(res.json.error.details), what).toMatch(/nested deeper than 32 levels/);
    }
    expect(await rows()).toEqual(before);
  });

  it('within the bounds is accepted', async () => {
    const res = await api('POST', `/api/v3/workflows/${workflowId}/runs`, { token, body: { input: { topic: 'tides', extra: deep(30) } } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  });
});

describe('request bodies', () => {
  const raw = (bytes: Uint8Array) =>
    SELF.fetch(`${BASE}/api/v3/workflows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: bytes,
    });

  it('refuses invalid UTF-8 with 400 instead of storing replacement characters', async () => {
    const before = await count('workflows');
    const prefix = new TextEncoder().encode('{"name": "bad ');
    const suffix = new TextEncoder().encode(`", "nodes": ${JSON.stringify(simpleNodes)}}`);
    const res = await raw(new Uint8Array([...prefix, 0xff, 0xfe, ...suffix]));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/UTF-8/);
    expect(await count('workflows')).toBe(before);
    const good = await raw(new TextEncoder().encode(`{"name": "good é", "nodes": ${JSON.stringify(simpleNodes)}}`));
    expect(good.status).toBe(201);
  });

  it('refuses a NUL character anywhere in a JSON body', async () => {
    const before = await count('workflows');
    const res = await api('POST', '/api/v3/workflows', { token, body: `{"name": "a\\u0000b", "nodes": ${JSON.stringify(simpleNodes)}}` });
    expectError(res, 400, 'bad_request');
    expect(await count('workflows')).toBe(before);
  });
});
