import { Validator } from '@cfworker/json-schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { api, BASE, count, createWorkflow, expectError, registerAndLogin, snapshot, unique } from '../helpers';

type User = Awaited<ReturnType<typeof registerAndLogin>>;
let alice: User;
let ids: { child: number; parent: number };

const get = async (token: string, path: string) => {
  const res = await api('GET', path, { token });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json;
};
const exportJson = (token: string, query: string) => get(token, `/api/v3/workflows/export?${query}`);
const importBundle = (token: string, body: Record<string, unknown>) => api('POST', '/api/v3/workflows/import', { token, body });
const byName = async (token: string) => {
  const list = await get(token, '/api/v3/workflows?limit=100&archived=all');
  return new Map<string, any>(
    await Promise.all(list.items.map(async (w: any) => [w.name, await get(token, `/api/v3/workflows/${w.id}`)] as const)),
  );
};
const versionsOf = async (token: string, id: number) =>
  Promise.all(
    (await get(token, `/api/v3/workflows/${id}/versions?limit=100`)).items
      .reverse()
      .map((v: any) => get(token, `/api/v3/workflows/${id}/versions/${v.version}`)),
  );
/** A definition with subchain targets replaced by their workflow's name, so two deployments' copies compare equal. */
const portable = (w: any, names: Map<number, string>) => ({
  name: w.name,
  description: w.description,
  settings: w.settings,
  nodes: JSON.parse(JSON.stringify(w.nodes), (k, v) => (k === 'workflow_id' ? names.get(v) : v)),
});

beforeAll(async () => {
  alice = await registerAndLogin(unique('alice'));
  const child = await createWorkflow(alice.token, {
    name: 'Summarizer',
    tags: ['shared'],
    nodes: [{ id: 'sum', type: 'summarize', source: '{{input.text}}' }],
  });
  const first = [
    { id: 'outline', type: 'generate', prompt: 'Outline {{input.topic}}' },
    { id: 'short', type: 'subchain', workflow_id: child.id, depends_on: ['outline'], input: { text: '{{nodes.outline.output}}' } },
  ];
  const parent = await createWorkflow(alice.token, { name: 'Blog', description: 'with a summary', tags: ['blog', 'shared'], nodes: first });
  const second = [
    ...first,
    {
      id: 'each',
      type: 'map',
      depends_on: ['outline'],
      items: '{{nodes.outline.output}}',
      node: { type: 'subchain', workflow_id: child.id, input: { text: '{{item}}' } },
    },
  ];
  const put = await api('PUT', `/api/v3/workflows/${parent.id}`, {
    token: alice.token,
    body: { name: 'Blog', description: 'with a summary', nodes: second, settings: { concurrency: 2 } },
  });
  expect(put.status, JSON.stringify(put.json)).toBe(200);
  ids = { child: child.id, parent: parent.id };
});

describe('export and import', () => {
  it('exports a bundle with the workflows its subchains start, by key, without ids of this deployment', async () => {
    const bundle = await exportJson(alice.token, `ids=${ids.parent}&versions=true`);
    expect(bundle).toMatchObject({ format: 'dwc-workflow-bundle', version: 1, $schema: `${BASE}/api/v3/schemas/workflow-bundle/v1` });
    expect(bundle.workflows.map((w: any) => [w.key, w.name, w.tags, w.versions.length])).toEqual([
      ['summarizer', 'Summarizer', ['shared'], 0],
      ['blog', 'Blog', ['blog', 'shared'], 1],
    ]);
    const blog = bundle.workflows[1];
    expect(blog.nodes[1]).toMatchObject({ type: 'subchain', workflow: 'summarizer' });
    expect(blog.nodes[2].node).toMatchObject({ type: 'subchain', workflow: 'summarizer' });
    const text = JSON.stringify(bundle);
    for (const leak of ['workflow_id', 'owner_id', 'created_by', 'created_at', 'updated_at']) expect(text).not.toContain(leak);
  });

  it('imports into an empty account: the same definitions, versions and tags, subchains pointing at the new copies; again: nothing changes', async () => {
    const bundle = await exportJson(alice.token, 'versions=true');
    const bob = await registerAndLogin(unique('bob'));

    const before = await snapshot();
    const dry = await importBundle(bob.token, { bundle, dry_run: true });
    expect(dry.status, JSON.stringify(dry.json)).toBe(200);
    expect(dry.json.items.map((i: any) => [i.key, i.action, i.workflow_id])).toEqual([
      ['summarizer', 'created', null],
      ['blog', 'created', null],
    ]);
    expect(await snapshot()).toEqual(before);

    const done = await importBundle(bob.token, { bundle });
    expect(done.status, JSON.stringify(done.json)).toBe(200);
    expect(done.json.counts).toMatchObject({ created: 2 });
    expect(done.json.items.map((i: any) => i.version)).toEqual([1, 2]);

    const source = await byName(alice.token);
    const copy = await byName(bob.token);
    const aliceNames = new Map([...source.values()].map((w) => [w.id, w.name]));
    const bobNames = new Map([...copy.values()].map((w) => [w.id, w.name]));
    expect([...copy.keys()].sort()).toEqual(['Blog', 'Summarizer']);
    for (const name of ['Blog', 'Summarizer']) {
      expect(portable(copy.get(name), bobNames)).toEqual(portable(source.get(name), aliceNames));
      expect(copy.get(name).tags).toEqual(source.get(name).tags);
      const [a, b] = [await versionsOf(alice.token, source.get(name).id), await versionsOf(bob.token, copy.get(name).id)];
      expect(b.map((v: any) => portable(v, bobNames))).toEqual(a.map((v: any) => portable(v, aliceNames)));
    }
    expect(copy.get('Blog').nodes[1].workflow_id).toBe(copy.get('Summarizer').id);

    const settled = await snapshot();
    const tags = await count('workflow_tags');
    for (const policy of ['skip', 'rename', 'new_version']) {
      const again = await importBundle(bob.token, { bundle, policy });
      expect(again.json.items.map((i: any) => i.action)).toEqual(['unchanged', 'unchanged']);
    }
    expect(await snapshot()).toEqual(settled);
    expect(await count('workflow_tags')).toBe(tags);
  });

  it('round-trips through YAML', async () => {
    const res = await api('GET', `/api/v3/workflows/export?ids=${ids.parent}&format=yaml`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/yaml');
    expect(parse(res.json).workflows[1].nodes[1].workflow).toBe('summarizer');
    const carol = await registerAndLogin(unique('carol'));
    const done = await importBundle(carol.token, { yaml: res.json });
    expect(done.json.counts).toMatchObject({ created: 2 });
    const again = await importBundle(carol.token, { yaml: res.json, policy: 'new_version' });
    expect(again.json.counts).toMatchObject({ unchanged: 2 });
  });

  it('settles name conflicts by policy: skip (with a diff), rename, new_version', async () => {
    const dave = await registerAndLogin(unique('dave'));
    const mine = await createWorkflow(dave.token, { name: 'Summarizer', nodes: [{ id: 'other', type: 'generate', prompt: 'Mine' }] });
    const bundle = await exportJson(alice.token, `ids=${ids.child}`);

    const skipped = await importBundle(dave.token, { bundle, policy: 'skip' });
    expect(skipped.json.items[0]).toMatchObject({ action: 'skipped', workflow_id: mine.id, final_name: 'Summarizer' });
    expect(skipped.json.items[0].diff.nodes).toEqual({
      added: [{ id: 'sum', type: 'summarize' }],
      removed: [{ id: 'other', type: 'generate' }],
      changed: [],
    });

    const updated = await importBundle(dave.token, { bundle, policy: 'new_version' });
    expect(updated.json.items[0]).toMatchObject({ action: 'new_version', workflow_id: mine.id, version: 2 });
    const now = await get(dave.token, `/api/v3/workflows/${mine.id}`);
    expect(now.nodes.map((n: any) => n.id)).toEqual(['sum']);
    expect((await importBundle(dave.token, { bundle, policy: 'new_version' })).json.items[0].action).toBe('unchanged');

    const frank = await registerAndLogin(unique('frank'));
    await createWorkflow(frank.token, { name: 'Summarizer', nodes: [{ id: 'other', type: 'generate', prompt: 'Mine' }] });
    const renamed = await importBundle(frank.token, { bundle, policy: 'rename' });
    expect(renamed.json.items[0]).toMatchObject({ action: 'renamed', final_name: 'Summarizer (2)', version: 1 });
    // Identity wins over policy: the renamed copy is recognised, under any policy.
    for (const policy of ['rename', 'new_version'])
      expect((await importBundle(frank.token, { bundle, policy })).json.items[0]).toMatchObject({
        action: 'unchanged',
        final_name: 'Summarizer (2)',
      });
  });

  it('validates the whole bundle before writing anything, naming every problem', async () => {
    const erin = await registerAndLogin(unique('erin'));
    const before = await snapshot();
    const bundle = {
      format: 'dwc-workflow-bundle',
      version: 1,
      workflows: [
        { key: 'fine', name: 'Fine', nodes: [{ id: 'a', type: 'generate', prompt: 'ok' }] },
        { key: 'bad', name: 'Bad', nodes: [{ id: 'a', type: 'teleport' }] },
        { key: 'dangling', name: 'Dangling', nodes: [{ id: 's', type: 'subchain', workflow: 'nowhere' }] },
        { key: 'fine', name: 'Fine', nodes: [{ id: 'a', type: 'generate', prompt: 'ok' }] },
      ],
    };
    const res = await importBundle(erin.token, { bundle });
    expectError(res, 400, 'validation_error');
    const paths = res.json.error.details.map((d: any) => d.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['workflows.1.nodes.0.type', 'workflows.2.nodes.0.workflow', 'workflows.3.key', 'workflows.3.name']),
    );
    expectError(await importBundle(erin.token, { bundle: { ...bundle, version: 2 } }), 400, 'validation_error');
    expectError(await importBundle(erin.token, { yaml: 'format: [unclosed' }), 400, 'validation_error');
    expectError(await importBundle(erin.token, { yaml: 'format: nope\nversion: 1\nworkflows: []' }), 400, 'validation_error');
    expectError(await importBundle(erin.token, { bundle, yaml: 'x: 1' }), 400, 'validation_error');
    expectError(await importBundle(erin.token, { bundle: bundle, policy: 'overwrite' }), 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
    expectError(await api('GET', '/api/v3/workflows/export?ids=999999', { token: erin.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/workflows/export?ids=${ids.parent}`, { token: erin.token }), 404, 'not_found');
  });

  it('publishes the format as a JSON Schema at a stable public URL, which exported bundles satisfy', async () => {
    const res = await api('GET', '/api/v3/schemas/workflow-bundle/v1');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ $id: `${BASE}/api/v3/schemas/workflow-bundle/v1`, $defs: { node: expect.any(Object) } });
    const validator = new Validator(res.json, '2020-12', false);
    const bundle = await exportJson(alice.token, 'versions=true');
    expect(validator.validate(bundle).errors).toEqual([]);
    const broken = structuredClone(bundle);
    broken.workflows[1].nodes[1].workflow_id = 3;
    expect(validator.validate(broken).valid).toBe(false);
    expectError(await api('GET', '/api/v3/schemas/workflow-bundle/v9'), 400, 'validation_error');
  });
});
