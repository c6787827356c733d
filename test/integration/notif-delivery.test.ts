import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { deliver, getTask } from './tasks-helpers';
import { getDelivery, providerLog, saveChannel, scriptProvider, sendOne, waitForDelivery } from './notif-helpers';

/*
 * Delivery through the background task layer: retries with backoff on 5xx and 429 only, every
 * attempt tracked, a redelivered queue message sent once, scheduled and bulk sends, opt-outs.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let bob: Awaited<ReturnType<typeof registerAndLogin>>;
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const deliveryCount = async () => (await env.DB.prepare('SELECT count(*) AS n FROM notification_deliveries').first<{ n: number }>())!.n;

beforeAll(async () => {
  admin = await registerAndLogin(unique('ndadmin'));
  bob = await registerAndLogin(unique('ndbob'));
  await saveChannel(admin.token, 'email', 'default', {
    settings: { provider: 'resend', from: 'noreply@acme.example' },
    secrets: { api_key: 're_retry_0123456789' },
  });
});

describe('retries and failure tracking', () => {
  it('retries a 503 with backoff and succeeds, recording each attempt with its status code and latency', async () => {
    const to = `${unique('flaky')}@example.com`;
    await scriptProvider(to, 'flaky-1');
    const d = await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm' });
    const done = await waitForDelivery(admin.token, d.id);
    expect(done).toMatchObject({ status: 'sent', attempts: 2, provider_status: 200 });
    expect(done.attempt_log).toEqual([
      {
        attempt: 1,
        status: 'failed',
        retryable: true,
        response_code: 503,
        latency_ms: expect.any(Number),
        error: expect.stringContaining('503'),
        at: expect.any(String),
      },
      {
        attempt: 2,
        status: 'sent',
        retryable: false,
        response_code: 200,
        latency_ms: expect.any(Number),
        error: null,
        at: expect.any(String),
      },
    ]);
    const reqs = await providerLog('api.resend.com', to);
    expect(reqs).toHaveLength(2);
    // The same Idempotency-Key on both attempts: Resend itself drops a repeat.
    expect(new Set(reqs.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`notification-${d.id}`]));
    const task = await getTask(admin.token, done.task_id!);
    expect(task.attempt_log!.map((a) => a.status)).toEqual(['failed', 'succeeded']);
    expect(task.attempt_log![0]!.retry_delay_seconds).toBeGreaterThanOrEqual(1);
  });

  it('retries a 429', async () => {
    const to = `${unique('throttle')}@example.com`;
    await scriptProvider(to, 'throttle');
    const done = await waitForDelivery(
      admin.token,
      (await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm' })).id,
    );
    expect(done.attempt_log!.map((a) => [a.status, a.response_code])).toEqual([
      ['failed', 429],
      ['sent', 200],
    ]);
  });

  it('does not retry a 4xx: one attempt, failed, with the provider answer', async () => {
    const to = `${unique('reject')}@example.com`;
    await scriptProvider(to, 'status-422');
    const done = await waitForDelivery(
      admin.token,
      (await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm' })).id,
    );
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 1,
      provider_status: 422,
      error: expect.stringContaining('Resend answered 422'),
    });
    expect(done.attempt_log).toEqual([expect.objectContaining({ attempt: 1, status: 'failed', retryable: false, response_code: 422 })]);
    expect(await providerLog('api.resend.com', to)).toHaveLength(1);
    expect((await getTask(admin.token, done.task_id!)).status).toBe('failed');
  });
});

describe('at-least-once queue delivery', () => {
  it('a redelivered queue message does not send twice', async () => {
    const to = `${unique('dup')}@example.com`;
    // Scheduled an hour ahead, so the dispatcher holds the task and only these messages run it.
    const d = await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm', send_at: inAnHour() });
    expect(d.status).toBe('queued');
    const run = { kind: 'run', task_id: d.task_id, seq: 0 };
    await deliver('dwc-tasks', [{ id: 'n1', body: run }]);
    await deliver('dwc-tasks', [{ id: 'n1', body: run, attempts: 2 }]);
    await deliver('dwc-tasks', [
      { id: 'a', body: run },
      { id: 'b', body: run },
    ]);
    expect(await providerLog('api.resend.com', to)).toHaveLength(1);
    expect(await getDelivery(admin.token, d.id)).toMatchObject({ status: 'sent', attempts: 1 });
    const effects = await env.DB.prepare('SELECT effect FROM task_effects WHERE task_id = ?').bind(d.task_id).all();
    expect(effects.results).toEqual([{ effect: 'notification_sent' }]);
  });

  it('a hand-made task cannot send a notification', async () => {
    const d = await sendOne(admin.token, {
      channel: 'email',
      recipient: `${unique('hand')}@example.com`,
      subject: 's',
      message: 'm',
      send_at: inAnHour(),
    });
    const res = await api('POST', '/api/v3/background/tasks/submit', {
      token: admin.token,
      body: { name: 'x', task_type: 'notification_delivery', payload: { delivery_id: d.id } },
    });
    expectError(res, 400, 'validation_error');
  });
});

describe('scheduled and bulk sends', () => {
  it('holds a scheduled send until send_at in the task layer', async () => {
    const at = inAnHour();
    const to = `${unique('later')}@example.com`;
    const d = await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm', send_at: at, priority: 'urgent' });
    const task = await getTask(admin.token, d.task_id!);
    expect(task).toMatchObject({ status: 'queued', priority: 'critical' });
    expect(Math.abs(Date.parse((task as unknown as { run_after: string }).run_after) - Date.parse(at))).toBeLessThan(1500);
    expect((await getDelivery(admin.token, d.id)).status).toBe('queued');
    expect(await providerLog('api.resend.com', to)).toEqual([]);
    for (const send_at of [
      'yesterday',
      new Date(Date.now() - 3600_000).toISOString(),
      new Date(Date.now() + 8 * 86400_000).toISOString(),
    ]) {
      expectError(
        await api('POST', '/api/v3/notifications/send', {
          token: admin.token,
          body: { channel: 'email', recipient: to, subject: 's', message: 'm', send_at },
        }),
        400,
        'validation_error',
      );
    }
  });

  it('cancels a scheduled send, once', async () => {
    const to = `${unique('cancel')}@example.com`;
    const d = await sendOne(admin.token, { channel: 'email', recipient: to, subject: 's', message: 'm', send_at: inAnHour() });
    const res = await api('POST', `/api/v3/notifications/deliveries/${d.id}/cancel`, { token: admin.token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ status: 'cancelled', finished_at: expect.any(String) });
    expect((await getTask(admin.token, d.task_id!)).status).toBe('cancelled');
    expectError(await api('POST', `/api/v3/notifications/deliveries/${d.id}/cancel`, { token: admin.token }), 409, 'conflict');
    expectError(await api('POST', `/api/v3/notifications/deliveries/${d.id}/cancel`, { token: bob.token }), 404, 'not_found');
    // A message that still arrives for it sends nothing.
    await deliver('dwc-tasks', [{ body: { kind: 'run', task_id: d.task_id, seq: 0 } }]);
    expect(await providerLog('api.resend.com', to)).toEqual([]);
  });

  it('sends to many recipients in one batch, listed by batch and by recipient', async () => {
    const to = [1, 2, 3].map(() => `${unique('bulk')}@example.com`);
    const res = await api('POST', '/api/v3/notifications/send/bulk', {
      token: admin.token,
      body: { channel: 'email', recipients: to, subject: 'News', message: 'Hello all' },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json.deliveries.map((d: { recipient: string }) => d.recipient)).toEqual(to);
    for (const d of res.json.deliveries) expect((await waitForDelivery(admin.token, d.id)).status).toBe('sent');
    const batch = await api('GET', `/api/v3/notifications/deliveries?batch_id=${res.json.batch_id}`, { token: admin.token });
    expect(batch.json.items).toHaveLength(3);
    const one = await api('GET', `/api/v3/notifications/deliveries?recipient=${encodeURIComponent(to[1]!)}`, { token: admin.token });
    expect(one.json.items.map((d: { recipient: string }) => d.recipient)).toEqual([to[1]]);
    for (const t of to) expect(await providerLog('api.resend.com', t)).toHaveLength(1);
  });

  it('is all-or-nothing: one bad recipient refuses the batch and stores nothing', async () => {
    const before = await deliveryCount();
    const res = await api('POST', '/api/v3/notifications/send/bulk', {
      token: admin.token,
      body: { channel: 'email', recipients: ['ok@example.com', 'not-an-address', 'ok@example.com'], subject: 's', message: 'm' },
    });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details.map((d: { path: unknown[] }) => d.path)).toEqual([
      ['recipients', 1],
      ['recipients', 2],
    ]);
    expect(await deliveryCount()).toBe(before);
    expectError(
      await api('POST', '/api/v3/notifications/send/bulk', {
        token: admin.token,
        body: { channel: 'email', recipients: Array.from({ length: 101 }, (_, i) => `u${i}@example.com`), subject: 's', message: 'm' },
      }),
      400,
      'validation_error',
    );
  });
});

describe('preferences', () => {
  it('skips an opted-out channel and records it; other channels still arrive', async () => {
    const put = await api('PUT', '/api/v3/notifications/preferences', { token: bob.token, body: { email: false } });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ email: false, in_app: true, sms: true });
    const email = `${bob.user.username}@example.com`;
    const res = await api('POST', '/api/v3/notifications/send/bulk', {
      token: admin.token,
      body: { channel: 'email', recipients: [email, `${unique('other')}@example.com`], subject: 's', message: 'm' },
    });
    const [skipped, sent] = res.json.deliveries;
    expect(skipped).toMatchObject({ recipient: email, status: 'skipped', skip_reason: 'opted_out', task_id: null });
    expect((await waitForDelivery(admin.token, sent.id)).status).toBe('sent');
    expect(await providerLog('api.resend.com', email)).toEqual([]);
    const inApp = await sendOne(admin.token, { channel: 'in_app', recipient: bob.user.username, subject: 'still here', message: 'm' });
    expect((await waitForDelivery(admin.token, inApp.id)).status).toBe('sent');
  });

  it('applies an opt-out made after a scheduled send was accepted', async () => {
    const d = await sendOne(admin.token, {
      channel: 'in_app',
      recipient: bob.user.username,
      subject: 'later',
      message: 'm',
      send_at: inAnHour(),
    });
    await api('PUT', '/api/v3/notifications/preferences', { token: bob.token, body: { in_app: false } });
    await deliver('dwc-tasks', [{ body: { kind: 'run', task_id: d.task_id, seq: 0 } }]);
    const done = await getDelivery(admin.token, d.id);
    expect(done).toMatchObject({ status: 'skipped', skip_reason: 'opted_out' });
    expect(done.attempt_log).toEqual([expect.objectContaining({ status: 'skipped' })]);
    const inbox = await api('GET', '/api/v3/notifications', { token: bob.token });
    expect(inbox.json.items.map((n: { title: string }) => n.title)).not.toContain('later');
    await api('PUT', '/api/v3/notifications/preferences', { token: bob.token, body: { in_app: true, email: true } });
  });

  it("only admins reach other users' inboxes and devices", async () => {
    expectError(
      await api('POST', '/api/v3/notifications/send', {
        token: bob.token,
        body: { channel: 'in_app', recipient: admin.user.username, subject: 's', message: 'm' },
      }),
      403,
      'forbidden',
    );
    const self = await sendOne(bob.token, { channel: 'in_app', recipient: bob.user.username, subject: 'note to self', message: 'm' });
    expect((await waitForDelivery(bob.token, self.id)).status).toBe('sent');
    // Each sender sees only their own history.
    expectError(await api('GET', `/api/v3/notifications/deliveries/${self.id}/history`, { token: admin.token }), 404, 'not_found');
  });

  it('refuses a channel without a configuration, naming what is missing', async () => {
    const res = await api('POST', '/api/v3/notifications/send', {
      token: bob.token,
      body: { channel: 'slack', recipient: 'nowhere', subject: 's', message: 'm' },
    });
    expectError(res, 400, 'validation_error');
    expect(JSON.stringify(res.json.error.details)).toContain('no enabled slack configuration named \\"nowhere\\"');
  });
});
