import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, registerAndLogin, simpleNodes, startRun, unique, waitForRun } from '../helpers';

/*
 * One user with a small catalogue of workflows whose every searchable attribute is set on
 * purpose (dates through D1, as a clock would have set them), so each filter's answer is known.
 */
let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;
const ids: Record<string, number> = {};
const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const mapNodes = [
  { id: 'outline', type: 'generate', prompt: 'List sections about {{input.topic}}' },
  {
    id: 'sections',
    type: 'map',
    depends_on: ['outline'],
    items: '{{nodes.outline.output}}',
    node: { type: 'summarize', source: '{{item}}' },
  },
];

const list = async (query: string, token = alice.token) => {
  const res = await api('GET', `/api/v3/workflows?${query}`, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { items: any[]; next_cursor: string | null };
};
const names = async (query: string) => (await list(query)).items.map((w) => w.name);

beforeAll(async () => {
  alice = await registerAndLogin(unique('alice'));
  bob = await registerAndLogin(unique('bob'));
  const specs = [
    { name: 'Alpha newsletter', description: 'weekly digest', tags: ['marketing', 'weekly'], nodes: simpleNodes, created: 1, updated: 5 },
    { name: 'beta report', description: 'Quarterly numbers', tags: ['finance'], nodes: mapNodes, created: 2, updated: 3 },
    { name: 'Gamma 100% draft', description: null, tags: ['marketing'], nodes: mapNodes, created: 3, updated: 4 },
    { name: 'delta_notes', description: 'meeting notes', tags: [], nodes: [simpleNodes[0]], created: 4, updated: 9 },
  ];
  for (const s of specs) {
    const wf = await createWorkflow(alice.token, {
      name: s.name,
      ...(s.description ? { description: s.description } : {}),
      tags: s.tags,
      nodes: s.nodes,
    });
    ids[s.name] = wf.id;
    await env.DB.prepare('UPDATE workflows SET created_at = ?, updated_at = ? WHERE id = ?')
      .bind(T0 + s.created * DAY, T0 + s.updated * DAY, wf.id)
      .run();
  }
  await createWorkflow(bob.token, { name: 'Alpha of bob', tags: ['marketing'], nodes: simpleNodes });
});

describe('searching and filtering workflows', () => {
  it('matches text in the name or description, case-insensitively, with % and _ taken literally', async () => {
    expect(await names('q=ALPHA')).toEqual(['Alpha newsletter']);
    expect(await names('q=quarterly')).toEqual(['beta report']);
    expect(await names('q=100%25')).toEqual(['Gamma 100% draft']);
    expect(await names('q=a_n')).toEqual(['delta_notes']);
    expect(await names('q=nothing-like-this')).toEqual([]);
  });

  it('filters by tags (every one given) and shows each workflow its tags', async () => {
    expect(await names('tag=marketing')).toEqual(['Gamma 100% draft', 'Alpha newsletter']);
    expect(await names('tag=marketing,weekly')).toEqual(['Alpha newsletter']);
    expect((await list('tag=weekly')).items[0].tags).toEqual(['marketing', 'weekly']);
    expect(await names('tag=unknown')).toEqual([]);
    expectError(await api('GET', '/api/v3/workflows?tag=Bad%20Tag', { token: alice.token }), 400, 'validation_error');
  });

  it('filters by node types used, including a map node’s item node', async () => {
    expect(await names('node_type=map')).toEqual(['Gamma 100% draft', 'beta report']);
    expect(await names('node_type=summarize')).toEqual(['Gamma 100% draft', 'beta report']);
    expect(await names('node_type=title')).toEqual(['Alpha newsletter']);
    expect(await names('node_type=generate,title')).toEqual(['Alpha newsletter']);
    const bad = await api('GET', '/api/v3/workflows?node_type=teleport', { token: alice.token });
    expectError(bad, 400, 'validation_error');
    expect(JSON.stringify(bad.json.error.details)).toContain('teleport');
  });

  it('filters by created and updated ranges (ISO 8601 or epoch ms)', async () => {
    expect(await names(`created_after=${new Date(T0 + 2 * DAY).toISOString()}&created_before=${T0 + 4 * DAY}`)).toEqual([
      'Gamma 100% draft',
      'beta report',
    ]);
    expect(await names(`updated_after=${T0 + 5 * DAY}`)).toEqual(['delta_notes', 'Alpha newsletter']);
    expect(await names(`updated_before=${T0 + 4 * DAY}`)).toEqual(['beta report']);
    expectError(await api('GET', '/api/v3/workflows?created_after=yesterday', { token: alice.token }), 400, 'validation_error');
  });

  it("filters by the newest run's status, or workflows never run", async () => {
    const ok = await startRun(alice.token, ids.delta_notes!, { topic: 'x' });
    await waitForRun(alice.token, ids.delta_notes!, ok.id);
    const failing = await createWorkflow(alice.token, {
      name: 'epsilon failing',
      // A notify node is refused at run time (docs/engine.md), which fails the run.
      nodes: [{ id: 'only', type: 'notify', channel: 'email', recipient: 'a@example.com', message: 'hi' }],
    });
    const bad = await startRun(alice.token, failing.id);
    expect((await waitForRun(alice.token, failing.id, bad.id)).status).toBe('failed');

    expect(await names('last_run_status=succeeded')).toEqual(['delta_notes']);
    expect((await list('last_run_status=succeeded')).items[0].last_run_status).toBe('succeeded');
    expect(await names('last_run_status=failed')).toEqual(['epsilon failing']);
    // Each listed workflow shows its own newest run's status (never another workflow's).
    expect((await list('last_run_status=failed')).items[0].last_run_status).toBe('failed');
    expect((await list('last_run_status=none')).items.map((w: any) => w.last_run_status)).toEqual([null, null, null]);
    expect(await names('last_run_status=none')).toEqual(['Gamma 100% draft', 'beta report', 'Alpha newsletter']);
    expectError(await api('GET', '/api/v3/workflows?last_run_status=great', { token: alice.token }), 400, 'validation_error');
    await api('POST', '/api/v3/workflows/bulk', { token: alice.token, body: { action: 'delete', ids: [failing.id] } });
  });

  it('sorts by name, creation or last change, either way, and combines with filters', async () => {
    expect(await names('sort=name&order=asc')).toEqual(['Alpha newsletter', 'beta report', 'delta_notes', 'Gamma 100% draft']);
    expect(await names('sort=name&order=desc')).toEqual(['Gamma 100% draft', 'delta_notes', 'beta report', 'Alpha newsletter']);
    expect(await names('sort=updated_at')).toEqual(['delta_notes', 'Alpha newsletter', 'Gamma 100% draft', 'beta report']);
    expect(await names('sort=created_at&order=asc')).toEqual(['Alpha newsletter', 'beta report', 'Gamma 100% draft', 'delta_notes']);
    expect(await names('sort=name&order=asc&tag=marketing&q=a')).toEqual(['Alpha newsletter', 'Gamma 100% draft']);
  });

  it('pages every sort with keyset cursors: no row repeated or skipped, and a cursor only fits its own sort', async () => {
    for (const sort of ['name&order=asc', 'name&order=desc', 'updated_at', 'updated_at&order=asc', 'created_at', 'created_at&order=asc']) {
      const all = await names(`sort=${sort}`);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: any[]; next_cursor: string | null } = await list(`sort=${sort}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((w) => w.name));
        cursor = page.next_cursor;
      } while (cursor);
      expect(seen, sort).toEqual(all);
    }
    const byName = await list('sort=name&limit=1');
    expectError(
      await api('GET', `/api/v3/workflows?sort=updated_at&cursor=${byName.next_cursor}`, { token: alice.token }),
      400,
      'bad_request',
    );
    expectError(await api('GET', '/api/v3/workflows?cursor=forged', { token: alice.token }), 400, 'bad_request');
  });

  it('leaves archived workflows out unless asked, and never shows another user’s', async () => {
    const archived = await createWorkflow(alice.token, { name: 'Alpha archived', nodes: simpleNodes });
    await api('POST', '/api/v3/workflows/bulk', { token: alice.token, body: { action: 'archive', ids: [archived.id] } });
    expect(await names('q=alpha')).toEqual(['Alpha newsletter']);
    expect(await names('q=alpha&archived=true')).toEqual(['Alpha archived']);
    expect(await names('q=alpha&archived=all')).toEqual(['Alpha archived', 'Alpha newsletter']);
    expect((await list('q=alpha&archived=true')).items[0].archived).toBe(true);
    expect((await list('q=alpha', bob.token)).items.map((w) => w.name)).toEqual(['Alpha of bob']);
  });
});
