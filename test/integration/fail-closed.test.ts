import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkOutboundUrl } from '../../src/lib/ssrf';
import { outboundPolicy } from '../../src/tasks/payloads';
import { api, expectError, productionEnv, registerAndLogin, snapshot, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Issue 17, finding 8: production protection no longer hangs on one variable whose default was
 * development. Anything but ENVIRONMENT=development (production, unset, a typo) is production; a
 * deployment with missing or development secrets refuses every authenticated route — API keys
 * included, which used to keep working while JWT routes answered 500 — with 503 and a log line.
 */
afterEach(() => vi.restoreAllMocks());

/** The bindings of this file's storage as a deployment with the committed development secrets would have them. */
const devSecretsAs = (environment: string | undefined) => ({ ...env, ENVIRONMENT: environment, LOG_LEVEL: 'error' }) as Env;

async function credentials() {
  const { token, refresh, user } = await registerAndLogin(unique('fc'));
  const key = await api('POST', '/api/v3/auth/api-keys', { token, body: { name: 'ci', scopes: ['workflows:read', 'profile:read'] } });
  expect(key.status, JSON.stringify(key.json)).toBe(201);
  return { token, refresh, user, key: key.json.key as string };
}

describe('a worker that is not in development, with development secrets', () => {
  it('refuses to authenticate anything, API keys included: 503 and a log line naming the problem', async () => {
    const { token, refresh, user, key } = await credentials();
    expect((await api('GET', '/api/v3/workflows', { apiKey: key })).status).toBe(200); // development: works
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const prod = devSecretsAs('production');
    const before = await snapshot();
    const refused = [
      await api('GET', '/api/v3/workflows', { apiKey: key, env: prod }),
      await api('GET', '/api/v3/auth/me', { apiKey: key, env: prod }),
      await api('GET', '/api/v3/auth/me', { token, env: prod }),
      await api('POST', '/api/v3/ws/ticket', { token, env: prod }),
      await api('POST', '/api/v3/auth/login', { env: prod, body: { username: user.username, password: STRONG_PASSWORD } }),
      await api('POST', '/api/v3/auth/refresh', { env: prod, body: { refresh_token: refresh } }),
    ];
    for (const res of refused) {
      expectError(res, 503, 'service_unavailable');
      expect(res.json.error.message).not.toMatch(/JWT_SECRET|PEPPER|dev-only/); // the problem is for the operator's log
    }
    const late = unique('late');
    const registration = await api('POST', '/api/v3/auth/register', {
      env: prod,
      body: { username: late, email: `${late}@example.com`, password: STRONG_PASSWORD },
    });
    expect(registration.status).not.toBe(201);
    expect(await snapshot()).toEqual(before);
    const lines = errors.mock.calls.map((args) => JSON.parse(String(args[0])));
    expect(lines.length).toBeGreaterThanOrEqual(refused.length);
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'configuration problem',
      problem: expect.stringContaining('development secrets'),
    });
    // Liveness needs no secret and stays up, so the platform does not restart a worker that only needs its secrets set.
    expect((await api('GET', '/health', { env: prod })).status).toBe(200);
  });

  it('treats an unset or unknown ENVIRONMENT as production', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { token, key } = await credentials();
    for (const environment of [undefined, '', 'staging', 'Development']) {
      const deployed = devSecretsAs(environment);
      expectError(await api('GET', '/api/v3/workflows', { apiKey: key, env: deployed }), 503, 'service_unavailable');
      expectError(await api('GET', '/api/v3/auth/me', { token, env: deployed }), 503, 'service_unavailable');
    }
  });
});

describe('a production worker with a missing secret', () => {
  it('refuses API keys as well as tokens', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { key } = await credentials();
    const noPepper = productionEnv({ PASSWORD_PEPPER: '', LOG_LEVEL: 'error' });
    expectError(await api('GET', '/api/v3/workflows', { apiKey: key, env: noPepper }), 503, 'service_unavailable');
    const noKeys = productionEnv({ ENCRYPTION_KEYS: '', LOG_LEVEL: 'error' });
    expectError(await api('GET', '/api/v3/workflows', { apiKey: key, env: noKeys }), 503, 'service_unavailable');
  });
});

describe('what only development relaxes', () => {
  it('writes a password reset token to the log in development only', async () => {
    const { user } = await registerAndLogin(unique('resetlog'));
    const logged = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const forgot = (bindings: Env) => api('POST', '/api/v3/auth/password/forgot', { env: bindings, body: { username: user.username } });
    expect((await forgot(productionEnv({ LOG_LEVEL: 'debug' }))).status).toBe(202);
    const inProduction = logged.mock.calls.map((args) => String(args[0]));
    expect(inProduction.some((line) => line.includes('password reset token'))).toBe(false);
    logged.mockClear();
    expect((await forgot({ ...env, LOG_LEVEL: 'info' } as Env)).status).toBe(202);
    const inDevelopment = logged.mock.calls.map((args) => String(args[0]));
    expect(inDevelopment.find((line) => line.includes('password reset token'))).toMatch(/"token":"[^"]{20,}"/);
  });

  it('allows plain-http calls to *.test hosts in development only', () => {
    const call = (environment: string | undefined) =>
      checkOutboundUrl('http://hooks.test/in', outboundPolicy({ ENVIRONMENT: environment } as Env));
    expect(call('development').ok).toBe(true);
    for (const environment of ['production', undefined, 'staging']) expect(call(environment)).toMatchObject({ ok: false });
  });
});
