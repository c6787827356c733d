import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, expectError, poll, registerAndLogin, unique } from '../helpers';
import { providerLog, saveChannel, waitForDelivery } from './notif-helpers';

/*
 * Issue 17, finding 2: the service's own senders (an admin's global configuration, the
 * deployment's send_email binding) are not an open relay. For a non-admin they reach verified
 * addresses of this service's users and admin-approved domains only; anywhere else takes the
 * sender's own configuration. Every user has a daily quota per channel.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let editor: Awaited<ReturnType<typeof registerAndLogin>>;

const email = (token: string, recipient: string, extra: Record<string, unknown> = {}) =>
  api('POST', '/api/v3/notifications/send', { token, body: { channel: 'email', recipient, subject: 'Hi', message: 'Body', ...extra } });

async function verifyOwnAddress(who: { token: string; user: { username: string } }) {
  expect((await api('POST', '/api/v3/auth/email/verification', { token: who.token })).status).toBe(202);
  const [mail] = await poll(
    () => providerLog('api.resend.com', `${who.user.username}@example.com`),
    (l) => l.some((r) => r.body.includes('dwcv_')),
    { what: 'the verification mail' },
  );
  const token = /dwcv_[A-Za-z0-9_-]+/.exec(mail!.body)![0];
  expect((await api('POST', '/api/v3/auth/email/verify', { body: { token } })).status).toBe(204);
}

beforeAll(async () => {
  admin = await registerAndLogin(unique('relayadmin'));
  editor = await registerAndLogin(unique('relayed'));
  // The service's sender in this file: a global Resend configuration the fake provider records.
  await saveChannel(
    admin.token,
    'email',
    'default',
    { settings: { provider: 'resend', from: 'svc@acme.example' }, secrets: { api_key: 're_service_key' } },
    'global',
  );
});

describe("the service's email sender", () => {
  it('refuses an outside address for a non-admin, and stores nothing', async () => {
    const before = await count('notification_deliveries');
    const res = await email(editor.token, 'victim@elsewhere.example');
    expectError(res, 403, 'forbidden');
    expect(res.json.error.details[0]).toMatchObject({ path: ['recipient'], message: expect.stringMatching(/verified addresses/) });
    expect(await count('notification_deliveries')).toBe(before);
    // The binding fallback (no global configuration) is the service's sender too.
    await api('DELETE', '/api/v3/notifications/channels/email/default?scope=global', { token: admin.token });
    expectError(await email(editor.token, 'victim@elsewhere.example'), 403, 'forbidden');
    await saveChannel(
      admin.token,
      'email',
      'default',
      { settings: { provider: 'resend', from: 'svc@acme.example' }, secrets: { api_key: 're_service_key' } },
      'global',
    );
  });

  it("reaches users' verified addresses only", async () => {
    const other = await registerAndLogin(unique('relayother'));
    expectError(await email(editor.token, `${other.user.username}@example.com`), 403, 'forbidden'); // not verified yet
    await verifyOwnAddress(other);
    const res = await email(editor.token, `${other.user.username}@example.com`);
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect((await waitForDelivery(editor.token, res.json.deliveries[0].id)).status).toBe('sent');
  });

  it('reaches domains an admin approved; only admins approve them', async () => {
    expectError(
      await api('PUT', '/api/v3/notifications/service-email/domains', { token: editor.token, body: { domains: ['partner.example'] } }),
      403,
      'forbidden',
    );
    const set = await api('PUT', '/api/v3/notifications/service-email/domains', {
      token: admin.token,
      body: { domains: ['Partner.example'] },
    });
    expect(set.json.domains).toEqual(['partner.example']);
    expect((await email(editor.token, 'someone@partner.example')).status).toBe(202);
    expectError(await email(editor.token, 'someone@partner.example.evil'), 403, 'forbidden');
  });

  it("is not needed with the sender's own configuration, and admins may use it for anyone", async () => {
    expect((await email(admin.token, 'ops@elsewhere.example')).status).toBe(202);
    await saveChannel(editor.token, 'email', 'default', {
      settings: { provider: 'resend', from: 'me@mine.example' },
      secrets: { api_key: 're_own_key_123' },
    });
    const res = await email(editor.token, 'friend@elsewhere.example');
    expect(res.status).toBe(202);
    expect((await waitForDelivery(editor.token, res.json.deliveries[0].id)).status).toBe('sent');
    const [req] = await providerLog('api.resend.com', 'friend@elsewhere.example');
    expect(req!.headers.authorization).toBe('Bearer re_own_key_123');
  });

  it('does not stand in for an own configuration deleted after the send was accepted', async () => {
    const res = await email(editor.token, 'later@elsewhere.example', { send_at: new Date(Date.now() + 1500).toISOString() });
    expect(res.status).toBe(202);
    await api('DELETE', '/api/v3/notifications/channels/email/default', { token: editor.token });
    const done = await waitForDelivery(editor.token, res.json.deliveries[0].id);
    expect(done).toMatchObject({ status: 'failed', error: expect.stringMatching(/verified addresses/) });
    expect(await providerLog('api.resend.com', 'later@elsewhere.example')).toEqual([]);
  });

  it("the service's SMS sender is for admins", async () => {
    await saveChannel(
      admin.token,
      'sms',
      'default',
      { settings: { account_sid: `AC${'a'.repeat(32)}`, from: '+15005550006' }, secrets: { auth_token: 'twilio-token-0123456789' } },
      'global',
    );
    const res = await api('POST', '/api/v3/notifications/send', {
      token: editor.token,
      body: { channel: 'sms', recipient: '+14155550100', message: 'premium rate?' },
    });
    expectError(res, 403, 'forbidden');
  });
});

describe('daily quotas', () => {
  it('refuses a send past the per-user daily quota of its channel with a 429 naming the policy', async () => {
    const user = await registerAndLogin(unique('quota'));
    // Spend all but one of today's in-app quota directly on the counter the sends use.
    const counter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`notify:${user.user.id}:in_app`));
    await counter.hit(1000, 86_400_000, 999);
    const send = (n: number) =>
      api('POST', '/api/v3/notifications/send/bulk', {
        token: user.token,
        body: {
          channel: 'in_app',
          recipients: Array.from({ length: n }, () => String(user.user.id)).map((r, i) => (i ? `${user.user.username}@example.com` : r)),
          message: 'm',
        },
      });
    const before = await count('notification_deliveries');
    const refused = await send(2);
    expectError(refused, 429, 'rate_limited');
    expect(refused.headers.get('ratelimit-policy')).toBe('"notify-in-app-day";q=1000;w=86400');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.json.error.details).toMatchObject({ policy: 'notify-in-app-day', limit: 1000 });
    expect(await count('notification_deliveries')).toBe(before);
    expect((await send(1)).status).toBe(202);
    expectError(await send(1), 429, 'rate_limited');
  });
});
