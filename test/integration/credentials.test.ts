import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { createPasswordResetToken } from '../../src/auth/credentials';
import { getDb } from '../../src/db/client';
import { base32Decode, totp } from '../../src/security/totp';
import { api, expectError, login, poll, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Issue 17, finding 3: API keys do not outlive the owner's recovery, and a stolen short-lived
 * token cannot mint one. Also (finding 10): confirming MFA ends the other sessions, and a
 * revoked key takes no IP rules.
 */
const meta = { requestId: 'test', ip: null, userAgent: null, actorUserId: null, actorApiKeyId: null };
const newKey = (token: string) => api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'ci', scopes: ['workflows:read'] } });
/** Makes the session's last proof of a factor `minutes` old, as if its token had been stolen and used later. */
const age = (userId: number, minutes: number) =>
  env.DB.prepare('UPDATE sessions SET authenticated_at = ? WHERE user_id = ?')
    .bind(Date.now() - minutes * 60_000, userId)
    .run();

describe('creating an API key', () => {
  it('needs a sign-in or re-authentication within 5 minutes; refreshing the token does not count', async () => {
    const { user, token, refresh } = await registerAndLogin(unique('keymaker'));
    expect((await newKey(token)).status).toBe(201); // just signed in
    await age(user.id, 10);
    const stale = await newKey(token);
    expectError(stale, 403, 'forbidden');
    expect(stale.json.error.details).toMatchObject({ reason: 'reauthentication_required' });
    const refreshed = await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: refresh } });
    expectError(await newKey(refreshed.json.access_token), 403, 'forbidden');

    expectError(
      await api('POST', '/api/v3/auth/reauthenticate', { token, body: { password: 'not-my-password-1' } }),
      400,
      'validation_error',
    );
    expectError(await api('POST', '/api/v3/auth/reauthenticate', { token, body: { code: '123456' } }), 400, 'validation_error');
    const again = await api('POST', '/api/v3/auth/reauthenticate', { token, body: { password: STRONG_PASSWORD } });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(Date.parse(again.json.valid_until) - Date.parse(again.json.authenticated_at)).toBe(300_000);
    expect((await newKey(token)).status).toBe(201);
  });

  it('cannot be done with an API key, nor can a key re-authenticate', async () => {
    const { token } = await registerAndLogin(unique('keykey'));
    const key = (await api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'all', scopes: ['profile:read'] } })).json.key;
    expectError(await api('POST', '/api/v3/auth/reauthenticate', { apiKey: key, body: { password: STRONG_PASSWORD } }), 403, 'forbidden');
    expectError(await newKey(key), 403, 'forbidden');
  });
});

describe('recovery revokes API keys', () => {
  it('a password reset revokes every key of the account and tells the owner', async () => {
    const { user, token } = await registerAndLogin(unique('resetkeys'));
    const key = (await newKey(token)).json.key;
    expect((await api('GET', '/api/v3/workflows', { apiKey: key })).status).toBe(200);
    const reset = await api('POST', '/api/v3/auth/password/reset', {
      body: { token: (await createPasswordResetToken(getDb(env.DB), meta, user.id)).token, new_password: 'cobalt-Meadow-riddle-17' },
    });
    expect(reset.json).toEqual({ sessions_revoked: 1, api_keys_revoked: 1 });
    expectError(await api('GET', '/api/v3/workflows', { apiKey: key }), 401, 'unauthorized');
    const row = await env.DB.prepare('SELECT revoked_reason FROM api_keys WHERE user_id = ?').bind(user.id).first('revoked_reason');
    expect(row).toBe('password_reset');

    const fresh = await login(user.username, 'cobalt-Meadow-riddle-17');
    const inbox = await poll(
      () => api('GET', '/api/v3/notifications', { token: fresh.access_token }),
      (r) => r.json.items.length > 0,
      { what: 'the notice in the inbox' },
    );
    expect(inbox.json.items[0]).toMatchObject({ category: 'security', title: 'Your API keys were revoked (1)' });
    expect(inbox.json.items[0].body).toMatch(/password was reset/);
  });

  it('signing out everywhere revokes every key too', async () => {
    const { token } = await registerAndLogin(unique('outall'));
    const keys = [(await newKey(token)).json.key, (await newKey(token)).json.key];
    const out = await api('POST', '/api/v3/auth/logout-all', { token });
    expect(out.json).toEqual({ sessions_revoked: 1, api_keys_revoked: 2 });
    for (const key of keys) expectError(await api('GET', '/api/v3/workflows', { apiKey: key }), 401, 'unauthorized');
  });

  it('a revoked key takes no new IP rules (409), an unknown one 404', async () => {
    const { token } = await registerAndLogin(unique('deadkey'));
    const created = (await newKey(token)).json;
    expect((await api('DELETE', `/api/v3/auth/api-keys/${created.id}`, { token })).status).toBe(204);
    const rule = { action: 'allow', cidr: '203.0.113.0/24' };
    expectError(await api('POST', `/api/v3/auth/api-keys/${created.id}/ip-rules`, { token, body: rule }), 409, 'conflict');
    expectError(await api('POST', '/api/v3/auth/api-keys/999999/ip-rules', { token, body: rule }), 404, 'not_found');
  });
});

describe('confirming MFA', () => {
  it('ends every other session of the user; the confirming one stays', async () => {
    const { user, token } = await registerAndLogin(unique('mfaend'));
    const other = await login(user.username);
    const enroll = await api('POST', '/api/v3/auth/mfa/enroll', { token });
    const code = await totp(base32Decode(enroll.json.secret), Date.now() / 1000);
    const confirm = await api('POST', '/api/v3/auth/mfa/confirm', { token, body: { code } });
    expect(confirm.status, JSON.stringify(confirm.json)).toBe(200);
    expect(confirm.json.sessions_revoked).toBe(1);
    expectError(await api('GET', '/api/v3/auth/me', { token: other.access_token }), 401, 'unauthorized');
    expect((await api('GET', '/api/v3/auth/me', { token })).status).toBe(200);
  });
});
