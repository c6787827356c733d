import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, count, expectError, login, register, registerAndLogin, snapshot, STRONG_PASSWORD, unique } from '../helpers';

describe('auth flow', () => {
  it('register → login → me → refresh (rotation, reuse detection) → logout', async () => {
    const first = await register(unique('ada'));
    expect(first.role).toBe('admin'); // the bootstrap administrator test/helpers.ts makes first in this (isolated) database
    const second = await register(unique('bob'));
    expect(second.role).toBe('editor');

    const tokens = await login(second.username);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 900, user: { id: second.id } });
    expect(tokens.refresh_token).toMatch(/^dwcr_/);

    const me = await api('GET', '/api/v3/auth/me', { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ id: second.id, username: second.username, role: 'editor' });
    expect(me.json).not.toHaveProperty('password_hash');

    const r1 = await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(r1.status).toBe(200);
    expect(r1.json.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api('GET', '/api/v3/auth/me', { token: r1.json.access_token })).status).toBe(200);

    // Replaying the already rotated token is reuse: it fails and revokes the whole family...
    const replay = await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expectError(replay, 401, 'unauthorized');
    expect(replay.json.error.message).toMatch(/reuse/);
    // ...including the newest refresh token and the access tokens of that session.
    expectError(await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: r1.json.refresh_token } }), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/auth/me', { token: r1.json.access_token }), 401, 'unauthorized');
    const reuse = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.refresh_reuse'").first<{ n: number }>();
    expect(reuse!.n).toBe(1);

    // A fresh login is a new session, unaffected; logout ends it.
    const again = await login(second.username);
    expect((await api('POST', '/api/v3/auth/logout', { token: again.access_token })).status).toBe(204);
    expectError(await api('GET', '/api/v3/auth/me', { token: again.access_token }), 401, 'unauthorized');
    expectError(await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: again.refresh_token } }), 401, 'unauthorized');
    const logouts = await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'auth.logout'").first<{ n: number }>();
    expect(logouts!.n).toBe(1);
  });

  it("logs in by email, case-insensitively, and through the seeds' /api/v3/security/auth/login", async () => {
    const name = unique('carol');
    await register(name);
    const byEmail = await api('POST', '/api/v3/auth/login', {
      body: { email: `${name.toUpperCase()}@EXAMPLE.COM`, password: STRONG_PASSWORD },
    });
    expect(byEmail.status).toBe(200);
    const seeds = await api('POST', '/api/v3/security/auth/login', { body: { username: name, password: STRONG_PASSWORD } });
    expect(seeds.status).toBe(200);
    expect(seeds.json.access_token).toEqual(expect.any(String));
  });

  it('answers unknown users and wrong passwords alike, and audits both', async () => {
    const name = unique('dave');
    await register(name);
    const before = await count('audit_log');
    const wrong = await api('POST', '/api/v3/auth/login', { body: { username: name, password: 'not-the-password-1' } });
    const unknown = await api('POST', '/api/v3/auth/login', { body: { username: unique('ghost'), password: 'not-the-password-1' } });
    expectError(wrong, 401, 'unauthorized');
    expectError(unknown, 401, 'unauthorized');
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
    expect(await count('audit_log')).toBe(before + 2);
  });

  it("rejects weak passwords with zxcvbn's reasons and writes nothing", async () => {
    const before = await snapshot();
    const name = unique('erin');
    const res = await api('POST', '/api/v3/auth/register', {
      body: { username: name, email: `${name}@example.com`, password: 'password123' },
    });
    expectError(res, 400, 'validation_error');
    expect(res.json.error.details[0]).toMatchObject({ path: ['password'], code: 'weak_password' });
    expect(res.json.error.details[0].reasons.length).toBeGreaterThan(0);
    // Passwords built from the user's own name are weak too.
    const own = await api('POST', '/api/v3/auth/register', {
      body: { username: name, email: `${name}@example.com`, password: `${name}${name}` },
    });
    expectError(own, 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
  });

  it('refuses duplicate usernames and emails with 409', async () => {
    const name = unique('fay');
    await register(name);
    const dup = await api('POST', '/api/v3/auth/register', {
      body: { username: name.toUpperCase(), email: `other${name}@example.com`, password: STRONG_PASSWORD },
    });
    expectError(dup, 409, 'conflict');
    const dupEmail = await api('POST', '/api/v3/auth/register', {
      body: { username: unique('gus'), email: `${name}@example.com`, password: STRONG_PASSWORD },
    });
    expectError(dupEmail, 409, 'conflict');
  });

  it('ignores nothing silently: role and unknown fields in a registration are rejected', async () => {
    const name = unique('mal');
    const users = await count('users');
    const res = await api('POST', '/api/v3/auth/register', {
      body: { username: name, email: `${name}@example.com`, password: STRONG_PASSWORD, role: 'admin' },
    });
    expectError(res, 400, 'validation_error');
    expect(await count('users')).toBe(users);
    const after = await api('POST', '/api/v3/auth/login', { body: { username: name, password: STRONG_PASSWORD } });
    expectError(after, 401, 'unauthorized');
  });

  it('limits login attempts per account and answers 429 with Retry-After and RateLimit headers', async () => {
    const name = unique('hal');
    await register(name);
    for (let i = 0; i < 10; i++) {
      expectError(
        await api('POST', '/api/v3/auth/login', { body: { username: name, password: 'wrong-password-xyz' } }),
        401,
        'unauthorized',
      );
    }
    const limited = await api('POST', '/api/v3/auth/login', { body: { username: name, password: STRONG_PASSWORD } });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-policy')).toContain('login-account');
    expect(limited.headers.get('ratelimit')).toContain('r=0');
  });

  it('resets the per-account counter after a successful login', async () => {
    const { user } = await registerAndLogin(unique('ivy'));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++)
        await api('POST', '/api/v3/auth/login', { body: { username: user.username, password: 'wrong-password-xyz' } });
      await login(user.username);
    }
  });

  it('rejects malformed refresh and login bodies with 400 and writes nothing', async () => {
    const before = await snapshot();
    expectError(await api('POST', '/api/v3/auth/refresh', { body: {} }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/auth/refresh', { body: { refresh_token: 'x', extra: 1 } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/auth/login', { body: { password: 'x' } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/auth/login', { body: '{"username": "a", ' }), 400, 'bad_request');
    expectError(
      await api('POST', '/api/v3/auth/register', { body: { username: 'a b', email: 'nope', password: '' } }),
      400,
      'validation_error',
    );
    expect(await snapshot()).toEqual(before);
  });
});
