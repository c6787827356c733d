import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, simpleNodes, snapshot, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Mass assignment (OWASP API3:2023): a body naming fields the caller may not set — role, owner,
 * ids, timestamps — is refused whole with 400, and nothing changes. Every JSON body schema is
 * strict (test/node/openapi.test.ts checks that on the whole document); these go through the
 * worker on the routes where such a field would matter most.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let editor: Awaited<ReturnType<typeof registerAndLogin>>;
let workflowId: number;

beforeAll(async () => {
  admin = await registerAndLogin(unique('maadmin'));
  editor = await registerAndLogin(unique('maeditor'));
  workflowId = (await createWorkflow(editor.token, { name: 'mine', nodes: simpleNodes })).id;
});

describe('fields a caller may not set are refused, and nothing changes', () => {
  const name = unique('mauser');
  // Each case: what it tries, the route, the caller, the body, and the fields that must be named as refused.
  const cases: [string, string, () => string, unknown, string[]][] = [
    [
      'register as admin',
      'POST /api/v3/auth/register',
      () => '',
      { username: name, email: `${name}@example.com`, password: STRONG_PASSWORD, role: 'admin' },
      ['role'],
    ],
    [
      'register with an id',
      'POST /api/v3/auth/register',
      () => '',
      { username: name, email: `${name}@example.com`, password: STRONG_PASSWORD, id: 1 },
      ['id'],
    ],
    [
      'create a workflow for someone else',
      'POST /api/v3/workflows',
      () => editor.token,
      { name: 'x', nodes: simpleNodes, owner_id: 1 },
      ['owner_id'],
    ],
    [
      'replace a workflow with another owner',
      `PUT /api/v3/workflows/{wf}`,
      () => editor.token,
      { name: 'x', nodes: simpleNodes, owner_id: 1 },
      ['owner_id'],
    ],
    [
      'patch a workflow version and timestamps',
      `PATCH /api/v3/workflows/{wf}`,
      () => editor.token,
      { version: 99, created_at: '2020-01-01T00:00:00Z' },
      ['version', 'created_at'],
    ],
    ['patch a role with an extra id', 'PATCH /api/v3/auth/users/{me}', () => admin.token, { role: 'viewer', id: 1 }, ['id']],
    [
      'create an API key for another user',
      'POST /api/v3/auth/api-keys',
      () => editor.token,
      { name: 'k', scopes: ['workflows:read'], user_id: 1 },
      ['user_id'],
    ],
    [
      'submit a task owned by someone else',
      'POST /api/v3/background/tasks/submit',
      () => editor.token,
      { name: 't', task_type: 'data_processing', payload: {}, owner_id: 1 },
      ['owner_id'],
    ],
  ];

  it.each(cases)('%s → 400', async (_label, route, token, body, refused) => {
    const [method, template] = route.split(' ') as [string, string];
    const path = template.replace('{wf}', String(workflowId)).replace('{me}', String(editor.user.id));
    const before = await snapshot();
    const res = await api(method, path, { token: token() || undefined, body });
    expectError(res, 400, 'validation_error');
    // The answer names exactly the fields that may not be set, as unrecognised keys.
    const named = (res.json.error.details as { code: string; message: string }[])
      .filter((d) => d.code === 'unrecognized_keys')
      .flatMap((d) => [...d.message.matchAll(/"([^"]+)"/g)].map((m) => m[1]));
    expect(named.sort()).toEqual([...refused].sort());
    expect(await snapshot()).toEqual(before);
  });

  it('left roles, owners and versions as they were', async () => {
    const roles = await env.DB.prepare('SELECT username, role FROM users ORDER BY id').all<{ username: string; role: string }>();
    expect(roles.results.map((r) => r.role)).toEqual(['admin', 'editor']);
    const wf = await api('GET', `/api/v3/workflows/${workflowId}`, { token: editor.token });
    expect(wf.json).toMatchObject({ owner_id: editor.user.id, version: 1 });
  });
});
