import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { saveChannel } from './notif-helpers';

/*
 * Who may use what: configurations, templates, subscriptions and history are their owner's;
 * viewers and narrowly scoped API keys cannot send; global configurations are admin-only.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let alice: Awaited<ReturnType<typeof registerAndLogin>>;
let mallory: Awaited<ReturnType<typeof registerAndLogin>>;
let viewer: Awaited<ReturnType<typeof registerAndLogin>>;

beforeAll(async () => {
  admin = await registerAndLogin(unique('nsadmin'));
  alice = await registerAndLogin(unique('nsalice'));
  mallory = await registerAndLogin(unique('nsmal'));
  viewer = await registerAndLogin(unique('nsview'));
  await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } });
  await saveChannel(alice.token, 'slack', 'private', { secrets: { webhook_url: 'https://hooks.slack.com/services/T9/B9/alicesecret' } });
});

const send = (token: string, body: Record<string, unknown>) => api('POST', '/api/v3/notifications/send', { token, body });

describe('notification security', () => {
  it("cannot send through another user's configuration or template", async () => {
    const res = await send(mallory.token, { channel: 'slack', recipient: 'private', subject: 's', message: 'm' });
    expectError(res, 400, 'validation_error');
    const tpl = await api('POST', '/api/v3/notifications/templates', {
      token: alice.token,
      body: { name: 't', channel: 'in_app', body: 'hello' },
    });
    expect(tpl.status).toBe(201);
    const viaTemplate = await send(mallory.token, { channel: 'in_app', recipient: mallory.user.username, template_id: tpl.json.id });
    expect(viaTemplate.json.error.details).toEqual([{ path: ['template_id'], code: 'custom', message: 'no such template' }]);
    expectError(await api('GET', `/api/v3/notifications/templates/by-id/${tpl.json.id}`, { token: mallory.token }), 404, 'not_found');
    expect((await api('GET', '/api/v3/notifications/channels', { token: mallory.token })).json.items).toEqual([]);
    expectError(await api('DELETE', '/api/v3/notifications/channels/slack/private', { token: mallory.token }), 404, 'not_found');
    expect((await api('GET', '/api/v3/notifications/channels', { token: alice.token })).json.items).toHaveLength(1);
  });

  it('keeps push subscriptions and preferences per user', async () => {
    const sub = await api('POST', '/api/v3/notifications/push/subscriptions', {
      token: alice.token,
      body: {
        endpoint: 'https://fcm.googleapis.com/fcm/send/alice',
        keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
      },
    });
    // That p256dh is not a point on the curve: refused.
    expectError(sub, 400, 'validation_error');
    expectError(await api('DELETE', '/api/v3/notifications/push/subscriptions/1', { token: mallory.token }), 404, 'not_found');
    await api('PUT', '/api/v3/notifications/preferences', { token: mallory.token, body: { sms: false } });
    expect((await api('GET', '/api/v3/notifications/preferences', { token: alice.token })).json.sms).toBe(true);
    expectError(
      await api('PUT', '/api/v3/notifications/preferences', { token: alice.token, body: { fax: false } }),
      400,
      'validation_error',
    );
  });

  it('lets viewers manage what reaches them but not send or configure', async () => {
    expectError(
      await send(viewer.token, { channel: 'in_app', recipient: viewer.user.username, subject: 's', message: 'm' }),
      403,
      'forbidden',
    );
    expectError(
      await api('PUT', '/api/v3/notifications/channels/slack/x', {
        token: viewer.token,
        body: { secrets: { webhook_url: 'https://hooks.slack.com/services/a' } },
      }),
      403,
      'forbidden',
    );
    expect((await api('PUT', '/api/v3/notifications/preferences', { token: viewer.token, body: { email: false } })).status).toBe(200);
  });

  it('requires notifications:write on API keys to send, and admin for global configurations', async () => {
    const readKey = (
      await api('POST', '/api/v3/auth/api-keys', { token: alice.token, body: { name: 'r', scopes: ['notifications:read'] } })
    ).json.key;
    expectError(
      await api('POST', '/api/v3/notifications/send', {
        apiKey: readKey,
        body: { channel: 'in_app', recipient: alice.user.username, subject: 's', message: 'm' },
      }),
      403,
      'forbidden',
    );
    expect((await api('GET', '/api/v3/notifications/deliveries', { apiKey: readKey })).status).toBe(200);
    expectError(await api('GET', '/api/v3/notifications/channels?scope=global', { token: alice.token }), 403, 'forbidden');
    expectError(await api('DELETE', '/api/v3/notifications/channels/push/default?scope=global', { token: alice.token }), 403, 'forbidden');
    expect((await api('GET', '/api/v3/notifications/channels?scope=global', { token: admin.token })).status).toBe(200);
  });

  it('refuses unknown fields and oversized input', async () => {
    expectError(
      await send(alice.token, { channel: 'in_app', recipient: alice.user.username, message: 'm', owner_id: 1 }),
      400,
      'validation_error',
    );
    expectError(
      await send(alice.token, { channel: 'in_app', recipient: alice.user.username, message: 'x'.repeat(10_001) }),
      400,
      'validation_error',
    );
    expectError(await send(alice.token, { channel: 'fax', recipient: 'x', message: 'm' }), 400, 'validation_error');
    expectError(
      await api('PUT', '/api/v3/notifications/channels/email/default', {
        token: alice.token,
        body: { settings: { provider: 'resend', from: 'a@b.example', smtp_host: 'x' }, secrets: { api_key: 're_0123456789' } },
      }),
      400,
      'validation_error',
    );
    expectError(
      await api('PUT', '/api/v3/notifications/channels/email/default', {
        token: alice.token,
        body: { settings: { provider: 'resend', from: 'a@b.example' } },
      }),
      400,
      'validation_error',
    );
  });
});
