import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/automations/webhook';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { allDone, createAutomation, waitForExecutions } from './automations-helpers';
import { waitForTask } from './tasks-helpers';

let token: string;
beforeAll(async () => {
  await registerAndLogin(unique('wadmin')); // the first user of this file's database is admin
  token = (await registerAndLogin(unique('hooks'))).token;
});

async function post(id: string, body: string, secret: string, ts = String(Math.floor(Date.now() / 1000)), sig?: string) {
  return api('POST', `/api/v3/automations/${id}/webhook`, {
    headers: {
      'content-type': 'application/json',
      'x-automation-timestamp': ts,
      'x-automation-signature': sig ?? (await webhookSignature(secret, ts, body)),
    },
    body: JSON.parse(body),
  });
}

describe('webhook-triggered automations', () => {
  it('fires on a correctly signed call, once per delivery, and refuses anything else', async () => {
    const a = await createAutomation(token, {
      name: 'inbound',
      trigger: { type: 'webhook', conditions: { kind: 'order' } },
      actions: [{ type: 'send_notification', parameters: { channel: 'in_app', message: 'Order {{trigger.order_id}}' } }],
    });
    expect(a.webhook_secret).toMatch(/^whsec_/);
    // Stored sealed: the column never holds the secret.
    const row = await env.DB.prepare('SELECT webhook_secret FROM automations WHERE id = ?')
      .bind(Number(a.id.slice(11)))
      .first<{ webhook_secret: string }>();
    expect(row!.webhook_secret).not.toContain(a.webhook_secret.slice(6));
    // Reading the automation never shows the secret again.
    expect((await api('GET', `/api/v3/automations/${a.id}`, { token })).json.webhook_secret).toBeUndefined();

    const body = JSON.stringify({ trigger_data: { kind: 'order', order_id: 7 } });
    const ts = String(Math.floor(Date.now() / 1000));
    const first = await post(a.id, body, a.webhook_secret, ts);
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    const replay = await post(a.id, body, a.webhook_secret, ts);
    expect(replay.json.id).toBe(first.json.id);
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    expect(e).toMatchObject({ status: 'succeeded', trigger_data: { order_id: 7 } });

    expectError(await post(a.id, body, 'whsec_wrong'), 401, 'unauthorized');
    expectError(await post(a.id, body, a.webhook_secret, String(Math.floor(Date.now() / 1000) - 3600)), 401, 'unauthorized');
    expectError(await post('automation_999999', body, a.webhook_secret), 401, 'unauthorized');
    const apiCall = await createAutomation(token, {
      name: 'not a hook',
      trigger: { type: 'api_call' },
      actions: [{ type: 'ai_generation', parameters: { prompt_template: 'x' } }],
    });
    expect(apiCall.webhook_secret).toBeUndefined();
    expectError(await post(apiCall.id, body, a.webhook_secret), 401, 'unauthorized');
    expect((await waitForExecutions(token, a.id, allDone(1))).length).toBe(1);
  });
});

describe('scheduled automations', () => {
  it('makes a cron schedule whose fires start executions, and removes it with the automation', async () => {
    const before = await env.DB.prepare('SELECT count(*) AS n FROM automations').first<{ n: number }>();
    expectError(
      await api('POST', '/api/v3/automations', {
        token,
        body: {
          name: 'bad cron',
          trigger: { type: 'scheduled', cron_expression: 'every day' },
          actions: [{ type: 'ai_generation', parameters: { prompt_template: 'x' } }],
        },
      }),
      400,
      'validation_error',
    );
    expect((await env.DB.prepare('SELECT count(*) AS n FROM automations').first<{ n: number }>())!.n).toBe(before!.n);

    const a = await createAutomation(token, {
      name: 'daily digest',
      trigger: { type: 'scheduled', cron_expression: '0 9 * * *', timezone: 'Europe/Madrid' },
      actions: [{ type: 'ai_generation', parameters: { prompt_template: 'Digest for {{trigger.fired_at}}' } }],
    });
    const id = Number(a.id.slice(11));
    const sched = await env.DB.prepare(
      'SELECT s.id, s.cron_expression, s.target FROM schedules s JOIN automations a ON a.schedule_id = s.id WHERE a.id = ?',
    )
      .bind(id)
      .first<any>();
    expect(sched).toMatchObject({ cron_expression: '0 9 * * *' });
    expect(JSON.parse(sched.target)).toMatchObject({ type: 'task', task_type: 'automation_fire', payload: { automation_id: id } });

    // What a fire does: the schedule's task, submitted here directly rather than waiting for 09:00.
    const fired = await api('POST', '/api/v3/background/tasks/submit', {
      token,
      body: { name: 'fire', task_type: 'automation_fire', payload: { automation_id: id } },
    });
    expect(fired.status, JSON.stringify(fired.json)).toBe(201);
    const [e] = await waitForExecutions(token, a.id, allDone(1));
    expect(e).toMatchObject({ status: 'succeeded', event_id: `schedule:task:${fired.json.id}`, trigger_data: { event_type: 'scheduled' } });

    expect((await api('DELETE', `/api/v3/automations/${a.id}`, { token })).status).toBe(204);
    expect(await env.DB.prepare('SELECT id FROM schedules WHERE id = ?').bind(sched.id).first()).toBeNull();
  });

  it('checks a threshold on a schedule and fires once per window while it is crossed', async () => {
    const own = (await registerAndLogin(unique('thr'))).token;
    const a = await createAutomation(own, {
      name: 'too many failures',
      trigger: { type: 'threshold', metric: 'failed_tasks', window_minutes: 60, op: 'gte', value: 1 },
      actions: [
        { type: 'ai_generation', parameters: { prompt_template: '{{trigger.value}} failed tasks in {{trigger.window_minutes}} minutes' } },
      ],
    });
    const id = Number(a.id.slice(11));
    const sched = await env.DB.prepare(
      'SELECT s.kind, s.every_seconds FROM schedules s JOIN automations a ON a.schedule_id = s.id WHERE a.id = ?',
    )
      .bind(id)
      .first<any>();
    expect(sched).toEqual({ kind: 'interval', every_seconds: 60 });
    const check = async () => {
      const t = await api('POST', '/api/v3/background/tasks/submit', {
        token: own,
        body: { name: 'check', task_type: 'automation_fire', payload: { automation_id: id } },
      });
      return (await waitForTask(own, t.json.id)).result;
    };
    expect(await check()).toEqual({ fired: false, value: 0 });
    const doomed = await api('POST', '/api/v3/background/tasks/submit', {
      token: own,
      body: { name: 'doomed', task_type: 'webhook_call', payload: { url: `http://hooks.test/${unique('thr')}/status-400` } },
    });
    expect((await waitForTask(own, doomed.json.id)).status).toBe('failed');
    expect(await check()).toMatchObject({ status: 'queued' });
    const [e] = await waitForExecutions(own, a.id, allDone(1));
    expect(e).toMatchObject({ status: 'succeeded', trigger_data: { event_type: 'threshold', metric: 'failed_tasks', value: 1 } });
    expect(e.actions[0].status).toBe('succeeded');
    expect(await check()).toMatchObject({ fired: false, reason: 'already fired within the window' });
  });
});
