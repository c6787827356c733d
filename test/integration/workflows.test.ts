import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, simpleNodes, snapshot, unique } from '../helpers';

let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  alice = await registerAndLogin(unique('alice'));
  bob = await registerAndLogin(unique('bob'));
});

const create = (token: string, body: unknown) => api('POST', '/api/v3/workflows', { token, body });

describe('workflow definitions', () => {
  it('create → get → list → patch and put (new versions) → delete', async () => {
    const created = await create(alice.token, { name: 'Blog chain', description: 'outline, draft, title', nodes: simpleNodes });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: 'Blog chain',
      version: 1,
      owner_id: alice.user.id,
      settings: { concurrency: 4, timeout_seconds: 3600 },
    });
    expect(created.json.nodes[1]).toMatchObject({ id: 'draft', depends_on: ['outline'] });
    const id = created.json.id;

    expect((await api('GET', `/api/v3/workflows/${id}`, { token: alice.token })).json).toEqual(created.json);
    const list = await api('GET', '/api/v3/workflows', { token: alice.token });
    expect(list.json.items.map((w: { id: number }) => w.id)).toContain(id);
    expect(list.json.items[0]).toMatchObject({ node_count: 3 });

    const patched = await api('PATCH', `/api/v3/workflows/${id}`, {
      token: alice.token,
      body: { name: 'Blog chain v2', settings: { concurrency: 2 } },
    });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({
      version: 2,
      name: 'Blog chain v2',
      description: 'outline, draft, title',
      settings: { concurrency: 2 },
    });

    const replaced = await api('PUT', `/api/v3/workflows/${id}`, { token: alice.token, body: { name: 'Single', nodes: [simpleNodes[0]] } });
    expect(replaced.status).toBe(200);
    expect(replaced.json).toMatchObject({ version: 3, name: 'Single', description: null });
    expect(replaced.json.nodes).toHaveLength(1);

    const versions = await env.DB.prepare('SELECT version, name FROM workflow_versions WHERE workflow_id = ? ORDER BY version')
      .bind(id)
      .all();
    expect(versions.results).toEqual([
      { version: 1, name: 'Blog chain' },
      { version: 2, name: 'Blog chain v2' },
      { version: 3, name: 'Single' },
    ]);
    const audits = await env.DB.prepare("SELECT action FROM audit_log WHERE target_type = 'workflow' AND target_id = ? ORDER BY id")
      .bind(String(id))
      .all();
    expect(audits.results.map((r) => r.action)).toEqual(['workflow.create', 'workflow.update', 'workflow.update']);

    expect((await api('DELETE', `/api/v3/workflows/${id}`, { token: alice.token })).status).toBe(204);
    expectError(await api('GET', `/api/v3/workflows/${id}`, { token: alice.token }), 404, 'not_found');
    expectError(await api('DELETE', `/api/v3/workflows/${id}`, { token: alice.token }), 404, 'not_found');
  });

  it("another user's workflow answers 404 on get, update and delete, and is not changed", async () => {
    const mine = (await create(alice.token, { name: 'private', nodes: simpleNodes })).json;
    const before = await snapshot();
    expectError(await api('GET', `/api/v3/workflows/${mine.id}`, { token: bob.token }), 404, 'not_found');
    expectError(await api('PATCH', `/api/v3/workflows/${mine.id}`, { token: bob.token, body: { name: 'pwned' } }), 404, 'not_found');
    expectError(
      await api('PUT', `/api/v3/workflows/${mine.id}`, { token: bob.token, body: { name: 'pwned', nodes: simpleNodes } }),
      404,
      'not_found',
    );
    expectError(await api('DELETE', `/api/v3/workflows/${mine.id}`, { token: bob.token }), 404, 'not_found');
    expect(await snapshot()).toEqual(before);
    expect((await api('GET', `/api/v3/workflows/${mine.id}`, { token: alice.token })).json.name).toBe('private');
    // and it is not in bob's list
    const bobs = await api('GET', '/api/v3/workflows', { token: bob.token });
    expect(bobs.json.items.map((w: { id: number }) => w.id)).not.toContain(mine.id);
  });

  it('paginates with a cursor, newest first, with no overlap', async () => {
    const carol = await registerAndLogin(unique('carol'));
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(carol.token, { name: `wf${i}`, nodes: simpleNodes })).json.id);
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { items: { id: number }[]; next_cursor: string | null } } = await api(
        'GET',
        `/api/v3/workflows?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: carol.token },
      );
      seen.push(...page.json.items.map((w) => w.id));
      cursor = page.json.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
  });

  const invalid: [string, unknown, RegExp][] = [
    ['unknown node type', { name: 'x', nodes: [{ id: 'a', type: 'teleport' }] }, /type/],
    [
      'dependency on a missing node',
      { name: 'x', nodes: [{ id: 'a', type: 'generate', prompt: 'p', depends_on: ['ghost'] }] },
      /unknown node "ghost"/,
    ],
    ['self dependency', { name: 'x', nodes: [{ id: 'a', type: 'generate', prompt: 'p', depends_on: ['a'] }] }, /itself/],
    [
      'a cycle',
      {
        name: 'x',
        nodes: [
          { id: 'a', type: 'generate', prompt: 'p', depends_on: ['c'] },
          { id: 'b', type: 'summarize', depends_on: ['a'] },
          { id: 'c', type: 'title', depends_on: ['b'] },
        ],
      },
      /cycle among: a, b, c/,
    ],
    [
      'duplicate ids',
      {
        name: 'x',
        nodes: [
          { id: 'a', type: 'generate', prompt: 'p' },
          { id: 'a', type: 'title' },
        ],
      },
      /duplicate node id/,
    ],
    [
      'a template reference to a node that is not upstream',
      {
        name: 'x',
        nodes: [
          { id: 'a', type: 'generate', prompt: 'p' },
          { id: 'b', type: 'generate', prompt: 'use {{nodes.a.output}}' },
        ],
      },
      /not upstream/,
    ],
    [
      'an unknown template variable',
      { name: 'x', nodes: [{ id: 'a', type: 'generate', prompt: '{{secrets.key}}' }] },
      /unknown template variable/,
    ],
    [
      'a branch target that does not follow the branch',
      {
        name: 'x',
        nodes: [
          { id: 'check', type: 'branch', condition: { left: '{{input.kind}}', operator: 'eq', right: 'long' }, then: ['long'] },
          { id: 'long', type: 'generate', prompt: 'p' },
        ],
      },
      /must list "check"/,
    ],
    [
      'a subchain to a missing workflow',
      { name: 'x', nodes: [{ id: 'child', type: 'subchain', workflow_id: 99999 }] },
      /workflow 99999 not found/,
    ],
    ['no nodes', { name: 'x', nodes: [] }, /./],
    ['an unknown field (mass assignment)', { name: 'x', nodes: simpleNodes, owner_id: 1 }, /owner_id|Unrecognized/],
    ['an unknown node field', { name: 'x', nodes: [{ id: 'a', type: 'generate', prompt: 'p', role: 'admin' }] }, /role/],
    ['a bad node id', { name: 'x', nodes: [{ id: 'Has Space', type: 'generate', prompt: 'p' }] }, /lower-case/],
    ['concurrency out of range', { name: 'x', nodes: simpleNodes, settings: { concurrency: 100 } }, /./],
  ];

  it.each(invalid)('rejects %s with 400 and writes nothing', async (_name, body, message) => {
    const before = await snapshot();
    const res = await create(alice.token, body);
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details.map((d: { path: unknown[]; message: string }) => `${d.path.join('.')}: ${d.message}`).join('\n')).toMatch(
      message,
    );
    expect(await snapshot()).toEqual(before);
  });

  it('rejects an invalid update with 400 and keeps the current version', async () => {
    const wf = (await create(alice.token, { name: 'stable', nodes: simpleNodes })).json;
    const before = await snapshot();
    const bad = await api('PATCH', `/api/v3/workflows/${wf.id}`, {
      token: alice.token,
      body: { nodes: [{ id: 'a', type: 'title', depends_on: ['a'] }] },
    });
    expectError(bad, 400, 'validation_error');
    expectError(await api('PATCH', `/api/v3/workflows/${wf.id}`, { token: alice.token, body: {} }), 400, 'validation_error');
    const selfRef = await api('PATCH', `/api/v3/workflows/${wf.id}`, {
      token: alice.token,
      body: { nodes: [{ id: 's', type: 'subchain', workflow_id: wf.id }] },
    });
    expectError(selfRef, 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
    expect((await api('GET', `/api/v3/workflows/${wf.id}`, { token: alice.token })).json.version).toBe(1);
  });

  it('accepts every node type in one valid chain, including a subchain to an owned workflow', async () => {
    const child = (await create(alice.token, { name: 'child', nodes: simpleNodes })).json;
    const res = await create(alice.token, {
      name: 'everything',
      nodes: [
        { id: 'draft', type: 'generate', prompt: 'Write about {{input.topic}}', max_tokens: 500, temperature: 0.7 },
        { id: 'summary', type: 'summarize', depends_on: ['draft'], max_words: 50 },
        { id: 'facts', type: 'analyze', depends_on: ['draft'], analyses: ['sentiment', 'keywords'] },
        { id: 'headline', type: 'title', depends_on: ['summary'], style: 'news' },
        {
          id: 'clean',
          type: 'transform',
          source: '{{nodes.draft.output}}',
          depends_on: ['draft'],
          operations: [{ op: 'strip_markdown' }, { op: 'truncate', max_chars: 280 }],
        },
        {
          id: 'gate',
          type: 'branch',
          depends_on: ['facts'],
          condition: { left: '{{nodes.facts.output.sentiment}}', operator: 'eq', right: 'negative' },
          then: ['review'],
          else: ['publish'],
        },
        { id: 'review', type: 'approval', depends_on: ['gate', 'headline'], message: 'Check {{nodes.headline.output}}?' },
        {
          id: 'publish',
          type: 'notify',
          depends_on: ['gate'],
          channel: 'slack',
          recipient: 'https://hooks.slack.com/services/T/B/X',
          message: 'Published {{input.topic}}',
        },
        { id: 'index', type: 'task', depends_on: ['publish'], task_type: 'data_processing', payload: { format: 'json' } },
        { id: 'more', type: 'subchain', depends_on: ['headline'], workflow_id: child.id, input: { topic: '{{nodes.headline.output}}' } },
      ],
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json.nodes).toHaveLength(10);
  });
});
