import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { runExecution } from '../../src/automations/execute';
import { getDb } from '../../src/db/client';
import { api, count, registerAndLogin, unique } from '../helpers';
import { allDone, createAutomation, waitForExecutions } from './automations-helpers';

let token: string;
let userId: number;
beforeAll(async () => {
  await registerAndLogin(unique('fadmin')); // the first user of this file's database is admin
  const u = await registerAndLogin(unique('faults'));
  token = u.token;
  userId = (await api('GET', '/api/v3/auth/me', { token })).json.id;
});

const chain = {
  name: 'generate then tell me',
  trigger: { type: 'api_call' },
  actions: [
    { type: 'ai_generation', parameters: { prompt_template: 'Write about {topic}' } },
    { type: 'send_notification', parameters: { channel: 'in_app', message: 'Done: {{actions.0.output.text}}' } },
  ],
};

describe('automation executions under redelivery', () => {
  it('a finished execution run again changes nothing', async () => {
    const a = await createAutomation(token, chain);
    await api('POST', `/api/v3/automations/${a.id}/trigger`, { token, body: { trigger_data: { topic: 'moss' } } });
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    expect(e.status).toBe('succeeded');
    const deliveries = await count('notification_deliveries');
    expect(await runExecution(env, getDb(env.DB), e.id, userId)).toEqual({ status: 'succeeded', error: null });
    expect(await count('notification_deliveries')).toBe(deliveries);
  });

  it('after a crash mid-way, done actions are not repeated and a maybe-sent notification is not sent twice', async () => {
    const a = await createAutomation(token, chain);
    await api('POST', `/api/v3/automations/${a.id}/trigger`, { token, body: { trigger_data: { topic: 'lichen' } } });
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    const firstOutput = e.actions[0].output;
    // Rewind to the state a crash between sending the notification and recording it leaves.
    await env.DB.batch([
      env.DB.prepare("UPDATE automation_executions SET status = 'running', finished_at = NULL WHERE id = ?").bind(e.id),
      env.DB.prepare(
        "UPDATE automation_action_results SET status = 'started', output = NULL WHERE execution_id = ? AND action_index = 1",
      ).bind(e.id),
    ]);
    const deliveries = await count('notification_deliveries');
    const again = await runExecution(env, getDb(env.DB), e.id, userId);
    expect(again.status).toBe('failed');
    expect(await count('notification_deliveries')).toBe(deliveries);
    const [after] = await waitForExecutions(token, a.id, allDone(1));
    expect(after.actions[0].output).toEqual(firstOutput);
    expect(after.actions[1]).toMatchObject({ status: 'failed', error: expect.stringContaining('not repeated') });
  });

  it('records a learned order and shows the outcomes it learns from in stats', async () => {
    const a = await createAutomation(token, { ...chain, name: 'learner', learning_enabled: true });
    for (const topic of ['a', 'b']) await api('POST', `/api/v3/automations/${a.id}/trigger`, { token, body: { trigger_data: { topic } } });
    const items = await waitForExecutions(token, a.id, allDone(2));
    // The notification reads action 0, so whatever the sampler draws it runs second.
    for (const x of items) expect(x.decision).toMatchObject({ source: 'learned', order: [0, 1] });
    const stats = (await api('GET', '/api/v3/automations/stats', { token })).json;
    expect(stats.learning).toContainEqual({
      automation_id: a.id,
      actions: [
        { index: 0, succeeded: 2, failed: 0 },
        { index: 1, succeeded: 2, failed: 0 },
      ],
    });
  });

  it('an automation_run task cannot be aimed at an execution that is not waiting', async () => {
    const a = await createAutomation(token, chain);
    const fired = await api('POST', `/api/v3/automations/${a.id}/trigger`, { token, body: { trigger_data: { topic: 'x' } } });
    await waitForExecutions(token, a.id, allDone(1));
    const direct = await api('POST', '/api/v3/background/tasks/submit', {
      token,
      body: { name: 'again', task_type: 'automation_run', payload: { execution_id: fired.json.id } },
    });
    expect(direct.status).toBe(400);
  });
});
