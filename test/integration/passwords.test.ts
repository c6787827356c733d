import { env } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import type { RequestMeta } from '../../src/lib/audit';
import { createPasswordResetToken } from '../../src/auth/credentials';
import { getDb } from '../../src/db/client';
import { api, count, expectError, login, register, snapshot, STRONG_PASSWORD, unique } from '../helpers';
import { providerLog, saveChannel } from './notif-helpers';

const NEW_PASSWORD = 'amber-Quarry-whistle-58';
const meta: RequestMeta = { requestId: 'test', ip: null, userAgent: null, actorUserId: null, actorApiKeyId: null };
/** The function the forgot-password route runs, called directly to get the token it would deliver. */
const resetToken = async (userId: number) => (await createPasswordResetToken(getDb(env.DB), meta, userId)).token;

const me = (token: string) => api('GET', '/api/v3/auth/me', { token });
const refresh = (token: string) => api('POST', '/api/v3/auth/refresh', { body: { refresh_token: token } });
const reset = (body: unknown) => api('POST', '/api/v3/auth/password/reset', { body });
const tables = async (): Promise<Record<string, number>> => ({
  ...(await snapshot()),
  password_reset_tokens: await count('password_reset_tokens'),
  security_events: await count('security_events'),
});
const userRow = (id: number) =>
  env.DB.prepare('SELECT password_hash, password_changed_at FROM users WHERE id = ?')
    .bind(id)
    .first<{ password_hash: string; password_changed_at: number | null }>();

describe('change password', () => {
  it('needs the current password, checks strength, and ends the other sessions only', async () => {
    const user = await register(unique('chg'));
    const current = await login(user.username);
    const other = await login(user.username);
    const change = (body: unknown) => api('POST', '/api/v3/auth/password', { token: current.access_token, body });
    const outstanding = await resetToken(user.id);

    const before = await tables();
    expectError(await change({ new_password: NEW_PASSWORD }), 400, 'validation_error');
    expectError(await change({ current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD, role: 'admin' }), 400, 'validation_error');
    const weak = await change({ current_password: STRONG_PASSWORD, new_password: 'password123' });
    expectError(weak, 400, 'validation_error');
    expect(weak.json.error.details[0]).toMatchObject({ path: ['new_password'], code: 'weak_password' });
    expect((await change({ current_password: STRONG_PASSWORD, new_password: STRONG_PASSWORD })).json.error.details[0]).toMatchObject({
      code: 'unchanged',
    });
    expect(await tables()).toEqual(before);

    // A wrong current password is refused, audited, and changes nothing else.
    const wrong = await change({ current_password: 'not-the-password-9', new_password: NEW_PASSWORD });
    expectError(wrong, 400, 'validation_error');
    expect(wrong.json.error.details[0]).toMatchObject({ path: ['current_password'], code: 'incorrect_password' });
    expect(await tables()).toEqual({ ...before, audit_log: before.audit_log! + 1 });
    expect((await userRow(user.id))!.password_changed_at).toBeNull();

    const ok = await change({ current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json).toEqual({ sessions_revoked: 1 });
    expect((await me(current.access_token)).status).toBe(200);
    expect((await refresh(current.refresh_token)).status).toBe(200);
    expectError(await me(other.access_token), 401, 'unauthorized');
    expectError(await refresh(other.refresh_token), 401, 'unauthorized');
    expectError(
      await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: STRONG_PASSWORD } }),
      401,
      'unauthorized',
    );
    await login(user.username, NEW_PASSWORD);
    expect((await userRow(user.id))!.password_changed_at).toEqual(expect.any(Number));
    // A reset token requested before the change cannot undo it.
    expectError(await reset({ token: outstanding, new_password: 'cobalt-Meadow-riddle-17' }), 400, 'validation_error');
    const event = await env.DB.prepare("SELECT severity FROM security_events WHERE type = 'password_changed' AND user_id = ?")
      .bind(user.id)
      .first('severity');
    expect(event).toBe('low');
  });

  it('limits password checks per account (429)', async () => {
    const user = await register(unique('chglim'));
    const { access_token } = await login(user.username);
    for (let i = 0; i < 10; i++) {
      expectError(
        await api('POST', '/api/v3/auth/password', {
          token: access_token,
          body: { current_password: `wrong-${i}-password`, new_password: NEW_PASSWORD },
        }),
        400,
        'validation_error',
      );
    }
    const limited = await api('POST', '/api/v3/auth/password', {
      token: access_token,
      body: { current_password: STRONG_PASSWORD, new_password: NEW_PASSWORD },
    });
    expectError(limited, 429, 'rate_limited');
    expect(limited.json.error.details).toMatchObject({ policy: 'password-check' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('forgot password', () => {
  it('emails the token through the service-wide email configuration, and stores no copy of it', async () => {
    const admin = await register(unique('fgtadm'));
    await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(admin.id).run();
    const adminToken = (await login(admin.username)).access_token;
    await saveChannel(
      adminToken,
      'email',
      'default',
      { settings: { provider: 'resend', from: 'Accounts <accounts@acme.example>' }, secrets: { api_key: 're_reset_0123456789abcdef' } },
      'global',
    );
    const user = await register(unique('fgtmail'));
    const address = `${user.username}@example.com`;
    expect((await api('POST', '/api/v3/auth/password/forgot', { body: { username: user.username } })).status).toBe(202);

    const sent = await vi.waitFor(async () => {
      const log = await providerLog('api.resend.com', address);
      expect(log).toHaveLength(1);
      return log[0]!;
    });
    expect(sent).toMatchObject({ method: 'POST', url: 'https://api.resend.com/emails' });
    expect(sent.headers.authorization).toBe('Bearer re_reset_0123456789abcdef');
    const mail = JSON.parse(sent.body) as { from: string; to: string[] | string; subject: string; text: string };
    expect(mail.from).toBe('Accounts <accounts@acme.example>');
    expect([mail.to].flat()).toEqual([address]);
    const token = mail.text.split('\n\n')[1]!;
    expect(token.length).toBeGreaterThan(20);
    // Nothing in D1 holds the token: no delivery row, only its hash.
    expect(await env.DB.prepare('SELECT count(*) AS n FROM notification_deliveries WHERE body LIKE ?').bind(`%${token}%`).first('n')).toBe(
      0,
    );

    expect((await reset({ token, new_password: NEW_PASSWORD })).status).toBe(200);
    await login(user.username, NEW_PASSWORD);
  });

  it('answers identically whether or not the account exists, and creates a token only for a real one', async () => {
    const user = await register(unique('fgt'));
    const known = await api('POST', '/api/v3/auth/password/forgot', { body: { username: user.username } });
    const byEmail = await api('POST', '/api/v3/auth/password/forgot', { body: { email: `${user.username}@example.com` } });
    const unknown = await api('POST', '/api/v3/auth/password/forgot', { body: { username: unique('nobody') } });
    expect(known.status).toBe(202);
    expect(byEmail.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.json).toEqual(known.json);
    expect(byEmail.json).toEqual(known.json);
    expect([...unknown.headers.keys()].sort()).toEqual([...known.headers.keys()].sort());

    // The token is created after the answer (waitUntil), so that timing says nothing either.
    await vi.waitFor(async () =>
      expect(await env.DB.prepare('SELECT count(*) AS n FROM password_reset_tokens WHERE user_id = ?').bind(user.id).first('n')).toBe(2),
    );
    await vi.waitFor(async () =>
      expect(
        await env.DB.prepare("SELECT count(*) AS n FROM security_events WHERE type = 'password_reset_requested' AND user_id = ?")
          .bind(user.id)
          .first('n'),
      ).toBe(2),
    );
    const stored = await env.DB.prepare('SELECT token_hash, expires_at, created_at FROM password_reset_tokens WHERE user_id = ?')
      .bind(user.id)
      .first<{ token_hash: string; expires_at: number; created_at: number }>();
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored!.expires_at - stored!.created_at).toBeGreaterThan(29 * 60_000);
    expect(stored!.expires_at - stored!.created_at).toBeLessThanOrEqual(30 * 60_000 + 1000);
  });

  it('limits requests per account name, alike for unknown names, and rejects bad bodies', async () => {
    for (const name of [unique('nobody'), (await register(unique('lim'))).username]) {
      for (let i = 0; i < 5; i++)
        expect((await api('POST', '/api/v3/auth/password/forgot', { body: { username: name } })).status).toBe(202);
      const limited = await api('POST', '/api/v3/auth/password/forgot', { body: { username: name } });
      expectError(limited, 429, 'rate_limited');
      expect(limited.headers.get('ratelimit-policy')).toContain('password-reset-account');
    }
    const before = await tables();
    expectError(await api('POST', '/api/v3/auth/password/forgot', { body: {} }), 400, 'validation_error');
    expectError(
      await api('POST', '/api/v3/auth/password/forgot', { body: { username: 'a', email: 'a@example.com' } }),
      400,
      'validation_error',
    );
    expectError(await api('POST', '/api/v3/auth/password/forgot', { body: { username: 'a'.repeat(300) } }), 400, 'validation_error');
    expect(await tables()).toEqual(before);
  });
});

describe('reset password', () => {
  it('sets the password once per token, ends every session and every other token', async () => {
    const user = await register(unique('rst'));
    const a = await login(user.username);
    const b = await login(user.username);
    const earlier = await resetToken(user.id);
    const token = await resetToken(user.id);
    expect(token).toMatch(/^dwcp_/);

    const before = await tables();
    const weak = await reset({ token, new_password: 'password123' });
    expectError(weak, 400, 'validation_error');
    expect(weak.json.error.details[0]).toMatchObject({ path: ['new_password'], code: 'weak_password' });
    expectError(await reset({ token: 'dwcp_unknown', new_password: NEW_PASSWORD }), 400, 'validation_error');
    expectError(await reset({ token }), 400, 'validation_error');
    expectError(await reset({ token, new_password: NEW_PASSWORD, user_id: 1 }), 400, 'validation_error');
    expect(await tables()).toEqual(before);

    const ok = await reset({ token, new_password: NEW_PASSWORD });
    expect(ok.status, JSON.stringify(ok.json)).toBe(200);
    expect(ok.json).toEqual({ sessions_revoked: 2, api_keys_revoked: 0 });
    for (const s of [a, b]) {
      expectError(await me(s.access_token), 401, 'unauthorized');
      expectError(await refresh(s.refresh_token), 401, 'unauthorized');
    }
    expectError(
      await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: STRONG_PASSWORD } }),
      401,
      'unauthorized',
    );
    await login(user.username, NEW_PASSWORD);
    expect((await userRow(user.id))!.password_changed_at).toEqual(expect.any(Number));

    const again = await reset({ token, new_password: 'cobalt-Meadow-riddle-17' });
    expectError(again, 400, 'validation_error');
    expect(again.json.error.details[0]).toMatchObject({ path: ['token'], code: 'invalid_token' });
    expectError(await reset({ token: earlier, new_password: 'cobalt-Meadow-riddle-17' }), 400, 'validation_error');
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.password_reset' AND target_id = ?")
      .bind(String(user.id))
      .first('n');
    expect(audit).toBe(1);
  });

  it('refuses an expired token', async () => {
    const user = await register(unique('exp'));
    const token = await resetToken(user.id);
    await env.DB.prepare('UPDATE password_reset_tokens SET expires_at = ? WHERE user_id = ?')
      .bind(Date.now() - 1, user.id)
      .run();
    const hash = (await userRow(user.id))!.password_hash;
    expectError(await reset({ token, new_password: NEW_PASSWORD }), 400, 'validation_error');
    expect((await userRow(user.id))!.password_hash).toBe(hash);
  });

  it('lets only one of two concurrent resets with one token through', async () => {
    const user = await register(unique('race'));
    const token = await resetToken(user.id);
    const results = await Promise.all([
      reset({ token, new_password: NEW_PASSWORD }),
      reset({ token, new_password: 'cobalt-Meadow-riddle-17' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const winner = results[0]!.status === 200 ? NEW_PASSWORD : 'cobalt-Meadow-riddle-17';
    const loser = winner === NEW_PASSWORD ? 'cobalt-Meadow-riddle-17' : NEW_PASSWORD;
    await login(user.username, winner);
    expectError(await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: loser } }), 401, 'unauthorized');
    const audit = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.password_reset' AND target_id = ?")
      .bind(String(user.id))
      .first('n');
    expect(audit).toBe(1);
  });
});
