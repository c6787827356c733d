import { beforeAll, describe, expect, it } from 'vitest';
import { env } from 'cloudflare:test';
import { api, count, createWorkflow, expectError, registerAndLogin, startRun, unique } from '../helpers';
import { allDone, createAutomation, waitForExecutions } from './automations-helpers';

let admin: string;
let token: string;
beforeAll(async () => {
  admin = (await registerAndLogin(unique('aadmin'))).token; // the first user of this file's database is admin
  token = (await registerAndLogin(unique('auto'))).token;
});

const SEED_BODY = {
  name: 'Content Generation Automation',
  description: 'Automatically generate content based on triggers',
  trigger: { type: 'event_based', conditions: { event_type: 'content_request', priority: 'high' } },
  actions: [
    { type: 'ai_generation', parameters: { prompt_template: 'Generate content for: {topic}', max_tokens: 1000, temperature: 0.7 } },
    { type: 'send_notification', parameters: { channel: 'email', template: 'content_generated' } },
  ],
  ai_decision_making: true,
  learning_enabled: true,
};

describe('automations: the seed examples', () => {
  it('creates automation_1, triggers it, and logs each action', async () => {
    const created = await createAutomation(admin, SEED_BODY);
    expect(created).toMatchObject({
      id: 'automation_1',
      name: SEED_BODY.name,
      ai_decision_making: true,
      learning_enabled: true,
      enabled: true,
      trigger: SEED_BODY.trigger,
    });

    const fired = await api('POST', '/api/v3/automations/automation_1/trigger', {
      token: admin,
      body: {
        trigger_data: { event_type: 'content_request', priority: 'high', topic: 'AI Automation' },
        context: { user_id: '123', request_id: 'req_456' },
      },
    });
    expect(fired.status, JSON.stringify(fired.json)).toBe(202);
    expect(fired.json).toMatchObject({
      automation_id: 'automation_1',
      status: 'queued',
      trigger_data: { topic: 'AI Automation' },
      context: { request_id: 'req_456' },
    });

    const [e] = await waitForExecutions(admin, 'automation_1', allDone(1));
    // The local provider is no language model: the AI decision step's answer is not the JSON
    // asked for, so the learned (declared, here) order stands and the reason is recorded.
    expect(e.decision).toMatchObject({ source: 'fallback', order: [0, 1] });
    expect(e.actions[0]).toMatchObject({ index: 0, type: 'ai_generation', status: 'succeeded', error: null });
    expect(e.actions[0].output.text.length).toBeGreaterThan(0);
    // The action's measured time: a whole number of ms within the execution's own span.
    expect(Number.isInteger(e.actions[0].duration_ms)).toBe(true);
    expect(e.actions[0].duration_ms).toBeLessThanOrEqual(Date.parse(e.finished_at) - Date.parse(e.created_at));
    // The admin has no notification template named content_generated: the built-in message
    // carries the generated text to the owner's own address.
    expect(e.actions[1]).toMatchObject({ type: 'send_notification', status: 'succeeded', output: { template: null } });
    const delivery = await env.DB.prepare('SELECT channel, subject, body FROM notification_deliveries WHERE id = ?')
      .bind(e.actions[1].output.deliveries[0].id)
      .first<any>();
    expect(delivery).toEqual({
      channel: 'email',
      subject: 'Content Generation Automation: content_generated',
      body: e.actions[0].output.text,
    });
    expect(e).toMatchObject({ status: 'succeeded', depth: 0 });

    const templates = await api('GET', '/api/v3/automations/templates', { token: admin });
    expect(templates.status).toBe(200);
    expect(templates.json.templates.map((t: any) => t.id)).toContain('content_generation');
    // Every template is a body the API accepts.
    for (const t of templates.json.templates.filter((t: any) => !JSON.stringify(t.automation).includes('run_workflow')))
      await createAutomation(admin, t.automation);

    const stats = await api('GET', '/api/v3/automations/stats', { token: admin });
    expect(stats.status).toBe(200);
    expect(stats.json.executions).toMatchObject({ total: 1, by_status: { succeeded: 1 }, success_rate: 1 });
    expect(stats.json.actions.ai_generation).toMatchObject({ succeeded: 1, failed: 0, success_rate: 1 });
    expect(stats.json.actions.send_notification).toMatchObject({ succeeded: 1, failed: 0, success_rate: 1 });
    expect(stats.json.automations.total).toBe(1 + templates.json.templates.length - 1);
  });

  it('records a firing whose conditions do not hold as skipped, and an Idempotency-Key returns the first execution', async () => {
    const a = await createAutomation(token, { ...SEED_BODY, ai_decision_making: false, learning_enabled: false });
    const low = await api('POST', `/api/v3/automations/${a.id}/trigger`, {
      token,
      body: { trigger_data: { event_type: 'content_request', priority: 'low' } },
    });
    expect(low.status).toBe(202);
    expect(low.json).toMatchObject({ status: 'skipped', error: 'the trigger conditions are not met', task_id: null });

    const first = await api('POST', `/api/v3/automations/${a.id}/trigger`, {
      token,
      body: { trigger_data: { priority: 'low' } },
      headers: { 'Idempotency-Key': 'once-1' },
    });
    const again = await api('POST', `/api/v3/automations/${a.id}/trigger`, {
      token,
      body: { trigger_data: { priority: 'low' } },
      headers: { 'Idempotency-Key': 'once-1' },
    });
    expect(again.json.id).toBe(first.json.id);
  });

  it('refuses bad input with 400 and stores nothing', async () => {
    const before = await count('automations');
    const wfOther = await createWorkflow(admin, { name: 'not yours', nodes: [{ id: 'a', type: 'generate', prompt: 'x' }] });
    const bad = [
      { ...SEED_BODY, extra: 1 },
      { ...SEED_BODY, actions: [] },
      { ...SEED_BODY, actions: [{ type: 'rm_rf', parameters: {} }] },
      { ...SEED_BODY, trigger: { type: 'event_based', event: 'universe.ended' } },
      { ...SEED_BODY, trigger: { type: 'api_call', conditions: { all: [{ path: 'trigger.x', op: 'matches_regex', value: '.*' }] } } },
      { ...SEED_BODY, actions: [{ type: 'call_webhook', parameters: { url: 'http://169.254.169.254/latest/meta-data/' } }] },
      { ...SEED_BODY, actions: [{ type: 'run_workflow', parameters: { workflow_id: wfOther.id } }] },
      { ...SEED_BODY, actions: [{ type: 'submit_task', parameters: { task_type: 'automation_run', payload: { execution_id: 1 } } }] },
      { ...SEED_BODY, name: 'x'.repeat(201) },
    ];
    for (const body of bad) expectError(await api('POST', '/api/v3/automations', { token, body }), 400, 'validation_error');
    expect(await count('automations')).toBe(before);
    expectError(
      await api('POST', '/api/v3/automations/automation_1/trigger', { token, body: { trigger_data: {}, surprise: true } }),
      400,
      'validation_error',
    );
    // automation_1 is the admin's: for anyone else it does not exist.
    expectError(await api('POST', '/api/v3/automations/automation_1/trigger', { token, body: {} }), 404, 'not_found');
    expectError(await api('GET', '/api/v3/automations/automation_1', { token }), 404, 'not_found');
    expectError(await api('GET', '/api/v3/automations/workflow_1', { token }), 400, 'validation_error');
  });
});

describe('automations on internal events', () => {
  it('fires when a workflow run completes, checks its condition, and chains two actions', async () => {
    const wf = await createWorkflow(token, {
      name: 'watched',
      nodes: [{ id: 'draft', type: 'generate', prompt: 'Write about {{input.topic}}' }],
    });
    const other = await createWorkflow(token, { name: 'unwatched', nodes: [{ id: 'draft', type: 'generate', prompt: 'x' }] });
    const a = await createAutomation(token, {
      name: 'summarise finished runs',
      trigger: {
        type: 'event_based',
        event: 'workflow.completed',
        conditions: {
          all: [
            { path: 'trigger.workflow_id', op: 'eq', value: wf.id },
            { path: 'trigger.status', op: 'eq', value: 'succeeded' },
          ],
        },
      },
      actions: [
        { type: 'ai_generation', parameters: { prompt_template: 'Summarise run {{trigger.run_id}} of {{trigger.workflow_name}}' } },
        {
          type: 'send_notification',
          parameters: { channel: 'in_app', subject: 'Run {{trigger.run_id}} summarised', message: 'Summary: {{actions.0.output.text}}' },
        },
      ],
    });
    const skippedRun = await startRun(token, other.id, { topic: 'ants' });
    const run = await startRun(token, wf.id, { topic: 'bees' });
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    expect(e).toMatchObject({
      event_id: `run:${run.id}:succeeded`,
      status: 'succeeded',
      depth: 0,
      trigger_data: { event_type: 'workflow.completed', run_id: run.id, workflow_id: wf.id },
    });
    expect(e.actions.map((x: any) => x.status)).toEqual(['succeeded', 'succeeded']);
    const text: string = e.actions[0].output.text;
    expect(text.length).toBeGreaterThan(0);

    // The second action used the first one's output: the stored delivery carries it.
    const delivery = await env.DB.prepare('SELECT subject, body, channel FROM notification_deliveries WHERE id = ?')
      .bind(e.actions[1].output.deliveries[0].id)
      .first<any>();
    expect(delivery).toEqual({ subject: `Run ${run.id} summarised`, body: `Summary: ${text}`, channel: 'in_app' });
    // The other workflow's run matched no condition: no execution row mentions it.
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM automation_executions WHERE event_id = ?')
      .bind(`run:${skippedRun.id}:succeeded`)
      .first<{ n: number }>();
    expect(rows!.n).toBe(0);
  });

  it('stops an automation that keeps triggering itself', async () => {
    const wf = await createWorkflow(token, { name: 'loop', nodes: [{ id: 't', type: 'generate', prompt: 'Loop {{input.n}}' }] });
    const a = await createAutomation(token, {
      name: 'rerun forever',
      trigger: {
        type: 'event_based',
        event: 'workflow.completed',
        conditions: { all: [{ path: 'trigger.workflow_id', op: 'eq', value: wf.id }] },
      },
      actions: [{ type: 'run_workflow', parameters: { workflow_id: wf.id, input: { n: '{{trigger.run_id}}' } } }],
    });
    await startRun(token, wf.id, { n: 0 });
    const items = await waitForExecutions(token, a.id, (xs) => xs.some((x) => x.status === 'refused') && allDone(5)(xs));
    const byDepth = [...items].sort((x, y) => x.depth - y.depth);
    expect(byDepth.map((x) => [x.depth, x.status])).toEqual([
      [0, 'succeeded'],
      [1, 'succeeded'],
      [2, 'succeeded'],
      [3, 'succeeded'],
      [4, 'refused'],
    ]);
    expect(byDepth[4].error).toContain('chain depth 4 exceeds 3');
    expect(byDepth[4].actions[0].status).toBe('not_run');
    expect(byDepth.slice(1).every((x) => x.origin_automation_id === a.id)).toBe(true);
    // Each hop's run was launched once, with the previous run's id as input.
    expect(byDepth[1].trigger_data.run_id).toBe(byDepth[0].actions[0].output.run_id);
  });
});

describe('AI decision making', () => {
  it('falls back to the declared order when the provider fails or answers off-schema', async () => {
    const body = (model: string) => ({
      name: `decide ${model}`,
      trigger: { type: 'api_call' },
      actions: [
        { type: 'ai_generation', parameters: { prompt_template: 'About {topic}', provider: 'openai', model } },
        { type: 'ai_generation', parameters: { prompt_template: 'Shorter: {{actions.0.output.text}}', provider: 'local' } },
      ],
      ai_decision_making: true,
    });
    const failing = await createAutomation(token, body(`fail-${unique('dec')}`));
    const echo = await createAutomation(token, body('echo'));
    for (const a of [failing, echo])
      expect((await api('POST', `/api/v3/automations/${a.id}/trigger`, { token, body: { trigger_data: { topic: 'owls' } } })).status).toBe(
        202,
      );
    const [f] = await waitForExecutions(token, failing.id, allDone(1));
    expect(f.decision).toMatchObject({ source: 'fallback', order: [0, 1] });
    expect(f.decision.reason).toContain('the AI step failed');
    // The decision asks only the named provider; the generation action itself falls back along
    // the configured provider chain, so the execution still succeeds.
    expect(f.actions.map((x: any) => x.status)).toEqual(['succeeded', 'succeeded']);
    const [e] = await waitForExecutions(token, echo.id, allDone(1));
    expect(e.decision).toMatchObject({ source: 'fallback', order: [0, 1], reason: 'the AI answer was not JSON' });
    expect(e.status).toBe('succeeded');
  });
});
