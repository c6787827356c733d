import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { LOGIN_ACCOUNT_POLICY } from '../../src/auth/login';
import { limiter } from '../../src/lib/limits';
import { api, expectError, login, register, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Issue 17, finding 7: ten wrong passwords for a username used to lock the right password out for
 * everyone for 15 minutes (keyed on the typed name; the email spelling had ten more of its own).
 * Now attempts count per resolved account and client IP, or per known device; the owner from
 * another address or a known device is not locked out; locks grow on repetition; the 429 names
 * the policy.
 */
const attempt = (login: { username?: string; email?: string }, password: string, ip: string, device_token?: string) =>
  api('POST', '/api/v3/auth/login', {
    body: { ...login, password, ...(device_token ? { device_token } : {}) },
    headers: { 'cf-connecting-ip': ip },
  });

describe('sign-in lockout', () => {
  it("an attacker's failures lock their address out, not the owner signing in from elsewhere", async () => {
    const user = await register(unique('victim'));
    for (let i = 0; i < 10; i++)
      expectError(await attempt({ username: user.username }, 'wrong-password-1', '203.0.113.66'), 401, 'unauthorized');
    const locked = await attempt({ username: user.username }, STRONG_PASSWORD, '203.0.113.66');
    expectError(locked, 429, 'rate_limited');
    expect(locked.headers.get('ratelimit-policy')).toBe('"login-account-ip";q=10;w=900');
    expect(locked.json.error.details).toMatchObject({ policy: 'login-account-ip' });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);

    const owner = await attempt({ username: user.username }, STRONG_PASSWORD, '198.51.100.20');
    expect(owner.status, JSON.stringify(owner.json)).toBe(200);
  });

  it('counts the account, not the spelling: username and email share one counter', async () => {
    const user = await register(unique('spell'));
    const ip = '203.0.113.77';
    for (let i = 0; i < 5; i++) await attempt({ username: user.username }, 'wrong-password-1', ip);
    for (let i = 0; i < 5; i++) await attempt({ email: `${user.username.toUpperCase()}@example.com` }, 'wrong-password-1', ip);
    expectError(await attempt({ username: user.username }, STRONG_PASSWORD, ip), 429, 'rate_limited');
  });

  it('a guess spread over many addresses locks unknown devices; the owner on a known device still signs in', async () => {
    const user = await register(unique('spread'));
    const { device_token } = (await attempt({ username: user.username }, STRONG_PASSWORD, '198.51.100.1')).json;
    expect(device_token).toMatch(/^dwcd_/);
    // Most of the guesses straight onto the account-wide counter (each real one costs a PBKDF2), the last five for real;
    // the owner's own sign-in above, from a device then unknown, counted one too.
    const counter = limiter(env, `login:account:user:${user.id}`);
    for (let i = 0; i < LOGIN_ACCOUNT_POLICY.limit - 6; i++) await counter.attempt(LOGIN_ACCOUNT_POLICY);
    for (let i = 0; i < 5; i++)
      expectError(await attempt({ username: user.username }, 'wrong-password-1', `192.0.2.${i + 1}`), 401, 'unauthorized');
    const fresh = await attempt({ username: user.username }, STRONG_PASSWORD, '198.51.100.2');
    expectError(fresh, 429, 'rate_limited');
    expect(fresh.headers.get('ratelimit-policy')).toContain('"login-account"');
    const known = await attempt({ username: user.username }, STRONG_PASSWORD, '198.51.100.2', device_token);
    expect(known.status, JSON.stringify(known.json)).toBe(200);
  });

  it("a device token is only good for its own account, and not after the account's password changes", async () => {
    const a = await register(unique('deva'));
    const b = await register(unique('devb'));
    const token = (await login(a.username)) as unknown as { device_token: string; access_token: string };
    // B's address is locked for unknown devices; A's token does not make B's sign-in a known device.
    for (let i = 0; i < 10; i++) await attempt({ username: b.username }, 'wrong-password-1', '203.0.113.90');
    expectError(await attempt({ username: b.username }, STRONG_PASSWORD, '203.0.113.90', token.device_token), 429, 'rate_limited');

    // Device tokens carry whole seconds, and one issued in the second of a password change still
    // counts: let that second pass before changing it.
    await new Promise((r) => setTimeout(r, 1100));
    const changed = await api('POST', '/api/v3/auth/password', {
      token: token.access_token,
      body: { current_password: STRONG_PASSWORD, new_password: 'cobalt-Meadow-riddle-17' },
    });
    expect(changed.status, JSON.stringify(changed.json)).toBe(200);
    for (let i = 0; i < 10; i++) await attempt({ username: a.username }, 'wrong-password-1', '203.0.113.91');
    expectError(
      await attempt({ username: a.username }, 'cobalt-Meadow-riddle-17', '203.0.113.91', token.device_token),
      429,
      'rate_limited',
    );
  });

  it('locks for longer each time within a day (15 min, then 30 min …)', async () => {
    const key = limiter(env, `test-lockout:${unique('k')}`);
    const spec = { name: 't', limit: 2, windowSeconds: 1, maxLockSeconds: 10, memorySeconds: 60 };
    await key.attempt(spec);
    const first = await key.attempt(spec);
    expect(first).toMatchObject({ allowed: true, remaining: 0, locks: 1 });
    expect(first.resetAt - Date.now()).toBeLessThanOrEqual(1000);
    expect((await key.attempt(spec)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 1100));
    await key.attempt(spec);
    const second = await key.attempt(spec);
    expect(second.locks).toBe(2);
    expect(second.resetAt - Date.now()).toBeGreaterThan(1500);
    await key.reset();
    expect((await key.attempt(spec)).allowed).toBe(true);
  });
});
