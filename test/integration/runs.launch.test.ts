import { createScheduledController, env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { getDb } from '../../src/db/client';
import { launchRun } from '../../src/runs/launch';
import { getWorkflow } from '../../src/workflows';
import { api, count, createWorkflow, expectError, registerAndLogin, unique, waitForRun } from '../helpers';

/*
 * A run row never exists without its run object: the input is checked before the row is written,
 * a start that fails marks the row failed (503), and the minute cron re-drives a row a crash left
 * `queued` between the two steps.
 */

let token: string;
let userId: number;
beforeAll(async () => {
  const me = await registerAndLogin(unique('launch'));
  token = me.token;
  userId = me.user.id;
});

const echo = (template: string) => [{ id: 'echo', type: 'transform', source: template, operations: [{ op: 'trim' }] }];

describe('run input', () => {
  it('is refused, naming what is missing, before any row is written', async () => {
    const wf = await createWorkflow(token, { name: 'needs a topic', nodes: echo('{{input.topic}} for {{input.audience}}') });
    const before = await count('runs');
    const res = await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'tides' } } });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.message).toContain('"audience"');
    expect(res.json.error.details).toEqual([expect.objectContaining({ path: ['input', 'audience'], code: 'missing_input' })]);
    expect(await count('runs')).toBe(before);
  });

  it('takes declared defaults, and a given value wins over the default', async () => {
    const wf = await createWorkflow(token, {
      name: 'defaults',
      settings: { inputs: { audience: { default: 'children', description: 'who reads it' } } },
      nodes: echo('{{input.topic}} for {{input.audience}}'),
    });
    const a = await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'tides' } } });
    expect(a.status).toBe(201);
    const done = await waitForRun(token, wf.id, a.json.id);
    expect(done.input).toEqual({ topic: 'tides', audience: 'children' });
    expect(done.nodes[0]!.output!.text).toBe('tides for children');
    const b = await api('POST', `/api/v3/workflows/${wf.id}/runs`, { token, body: { input: { topic: 'tides', audience: 'sailors' } } });
    expect((await waitForRun(token, wf.id, b.json.id)).nodes[0]!.output!.text).toBe('tides for sailors');
  });
});

describe('a start that does not happen', () => {
  it('marks the row failed with the reason and answers 503', async () => {
    const db = getDb(env.DB);
    const wf = await createWorkflow(token, { name: 'object down', nodes: echo('x') });
    const workflow = (await getWorkflow(db, userId, wf.id))!;
    // A run namespace whose objects refuse every call, as an unreachable object would.
    const down = {
      idFromName: (name: string) => env.WORKFLOW_RUN.idFromName(name),
      get: () => ({
        start: () => Promise.reject(new Error('object unreachable')),
      }),
    } as unknown as DurableObjectNamespace;
    const meta = { requestId: 'test', ip: null, userAgent: null, actorUserId: userId, actorApiKeyId: null };
    const err = await launchRun({ ...env, WORKFLOW_RUN: down } as unknown as Env, db, meta, { workflow, ownerId: userId, input: {} }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ status: 503, code: 'service_unavailable' });
    const row = await env.DB.prepare('SELECT id, status, error, finished_at FROM runs WHERE workflow_id = ?')
      .bind(wf.id)
      .first<{ status: string; error: string; finished_at: number }>();
    expect(row).toMatchObject({ status: 'failed', error: 'the run could not start: object unreachable' });
    expect(row!.finished_at).toBeGreaterThan(0);
  });
});

describe('the stuck-run sweep', () => {
  it('starts a row left queued by a crash between the two steps, once', async () => {
    const wf = await createWorkflow(token, { name: 'crashed launch', nodes: echo('{{input.topic}}') });
    // The state a crash after the row's insert and before the object's start leaves behind.
    const old = Date.now() - 5 * 60_000;
    const { meta } = await env.DB.prepare(
      `INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?)`,
    )
      .bind(wf.id, wf.version, userId, JSON.stringify({ topic: 'recovered' }), old, old)
      .run();
    const runId = meta.last_row_id;
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    const run = await waitForRun(token, wf.id, runId);
    expect(run.status).toBe('succeeded');
    expect(run.nodes[0]!.output!.text).toBe('recovered');
    // A second sweep finds nothing queued and starts nothing again.
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    const events = await api('GET', `/api/v3/workflows/${wf.id}/runs/${runId}/events`, { token });
    expect(events.json.items.filter((e: { type: string }) => e.type === 'run.started')).toHaveLength(1);
  });

  it('leaves young queued rows alone and fails a row whose workflow version is gone', async () => {
    const wf = await createWorkflow(token, { name: 'young row', nodes: echo('x') });
    const now = Date.now();
    const young = await env.DB.prepare(
      `INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, created_at, updated_at) VALUES (?, ?, ?, 'queued', '{}', ?, ?)`,
    )
      .bind(wf.id, wf.version, userId, now, now)
      .run();
    const orphan = await env.DB.prepare(
      `INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, created_at, updated_at) VALUES (?, 999, ?, 'queued', '{}', ?, ?)`,
    )
      .bind(wf.id, userId, now - 10 * 60_000, now - 10 * 60_000)
      .run();
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    const status = (id: number) =>
      env.DB.prepare('SELECT status, error FROM runs WHERE id = ?').bind(id).first<{ status: string; error: string | null }>();
    expect(await status(young.meta.last_row_id)).toEqual({ status: 'queued', error: null });
    const failed = await status(orphan.meta.last_row_id);
    expect(failed!.status).toBe('failed');
    expect(failed!.error).toMatch(/^the run could not start: /);
  });
});

describe('output caps and context windows', () => {
  const gen = (extra: Record<string, unknown>) => ({ id: 'draft', type: 'generate', prompt: 'Write about {{input.topic}}', ...extra });

  it('a max_tokens that leaves no room for the prompt in the named model’s window is refused when saved', async () => {
    // gpt-4's context window is 8,192 tokens (src/ai/models.ts).
    const res = await api('POST', '/api/v3/workflows', {
      token,
      body: { name: 'too big', nodes: [gen({ provider: 'openai', model: 'gpt-4', max_tokens: 8192 })] },
    });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0]).toMatchObject({
      path: ['nodes', 0, 'max_tokens'],
      message: expect.stringMatching(
        /^an output cap of 8192 tokens and a prompt of at least \d+ leave no room in openai\/gpt-4's context window of 8192 tokens$/,
      ),
    });
    // The model may come from the settings; a map's per-item node is checked too.
    const viaSettings = await api('POST', '/api/v3/workflows', {
      token,
      body: {
        name: 'too big',
        settings: { provider: 'openai', default_model: 'gpt-4' },
        nodes: [{ id: 'each', type: 'map', items: '{{input.parts}}', node: { type: 'generate', prompt: 'x {{item}}', max_tokens: 8192 } }],
      },
    });
    expectError(viaSettings, 400, 'validation_error');
    expect(viaSettings.json.error.details[0].path).toEqual(['nodes', 0, 'node', 'max_tokens']);
    // A PATCH is checked as well; with room left, the same model is accepted.
    const ok = await createWorkflow(token, { name: 'fits', nodes: [gen({ provider: 'openai', model: 'gpt-4', max_tokens: 4000 })] });
    expectError(
      await api('PATCH', `/api/v3/workflows/${ok.id}`, {
        token,
        body: { nodes: [gen({ provider: 'openai', model: 'gpt-4', max_tokens: 8190 })] },
      }),
      400,
      'validation_error',
    );
  });
});
