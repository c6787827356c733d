import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createClient, DwcError } from '../../sdk';
import { BASE, createWorkflow, registerAndLogin, simpleNodes, unique } from '../helpers';

const viaWorker = (req: Request) => SELF.fetch(req);

describe('the typed SDK (sdk/index.ts)', () => {
  it('pages through a filtered list with its iterator, across pages', async () => {
    const { token } = await registerAndLogin(unique('sdk'));
    const tag = unique('t').toLowerCase();
    const made: number[] = [];
    for (let i = 0; i < 5; i++) made.push((await createWorkflow(token, { name: `sdk ${i}`, tags: [tag], nodes: simpleNodes })).id);
    await createWorkflow(token, { name: 'untagged', nodes: simpleNodes });

    const requests: string[] = [];
    const dwc = createClient({
      baseUrl: BASE,
      credentials: { accessToken: token },
      fetch: (req) => {
        requests.push(new URL(req.url).search);
        return viaWorker(req);
      },
    });
    const seen: number[] = [];
    for await (const wf of dwc.workflows({ tag, limit: '2', sort: 'name', order: 'asc' })) seen.push(wf.id);
    expect(seen).toEqual(made);
    expect(requests).toHaveLength(3);
    expect(requests[1]).toContain('cursor=');
  });

  it('refreshes an expired access token once, shares the refresh between concurrent calls, and hands the new pair over', async () => {
    const { refresh } = await registerAndLogin(unique('sdkr'));
    const stored: { accessToken: string; refreshToken: string }[] = [];
    let refreshes = 0;
    const dwc = createClient({
      baseUrl: BASE,
      credentials: { accessToken: 'expired-or-garbage', refreshToken: refresh },
      onTokens: (t) => {
        stored.push(t);
      },
      fetch: (req) => {
        if (req.url.endsWith('/auth/refresh')) refreshes++;
        return viaWorker(req);
      },
    });
    const [a, b] = await Promise.all([dwc.api.workflows.$get({ query: {} }), dwc.api.workflows.$get({ query: {} })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(refreshes).toBe(1);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.refreshToken).not.toBe(refresh);

    const noRefresh = createClient({ baseUrl: BASE, credentials: { accessToken: 'garbage' }, fetch: viaWorker });
    const refused = await noRefresh.session.json('GET', '/api/v3/workflows').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DwcError);
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('starts a run with the typed routes and follows its events to the end', async () => {
    const { token } = await registerAndLogin(unique('sdkf'));
    const dwc = createClient({ baseUrl: BASE, credentials: { accessToken: token }, fetch: viaWorker });
    const created = await dwc.api.workflows.$post({
      json: {
        name: 'followed',
        nodes: [
          { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
          { id: 'draft', type: 'generate', prompt: 'Write the article from:\n{{nodes.outline.output}}', depends_on: ['outline'] },
          { id: 'headline', type: 'title', depends_on: ['draft'] },
        ],
      },
    });
    if (created.status !== 201) throw new Error(`create failed: ${created.status}`);
    const wf = await created.json();
    const started = await dwc.api.workflows[':id'].runs.$post({
      param: { id: String(wf.id) },
      json: { input: { topic: 'owls' } },
      header: {},
    });
    if (started.status !== 201) throw new Error(`start failed: ${started.status}`);
    const run = await started.json();

    const events = [];
    for await (const e of dwc.followRun(wf.id, run.id)) events.push(e);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run.created');
    expect(types.at(-1)).toBe('run.succeeded');
    expect(types.filter((t) => t === 'node.succeeded')).toHaveLength(3);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);

    // Resuming after an event gives exactly the rest.
    const from = events[3]!.seq;
    const rest = [];
    for await (const e of dwc.followRun(wf.id, run.id, { after: from })) rest.push(e.seq);
    expect(rest).toEqual(seqs.filter((s) => s > from));
  });
});
