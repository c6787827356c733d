import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { READINESS_CACHE_MS, readiness } from '../../src/health/checks';
import { api, expectError, productionEnv, registerAndLogin, unique } from '../helpers';

/*
 * Issue 17, finding 9: /api/v3/health was public and unlimited, ran a D1 count, a KV round trip
 * and a Durable Object write on every call, and told anyone the user count and the environment.
 * Now /health is the public, cheap probe; readiness needs an administrator or the monitor's secret
 * header, and one report is answered for 15 seconds.
 */
const secret = (value: string) => ({ headers: { 'x-health-secret': value } });

describe('GET /health', () => {
  it('stays public and cheap: status, version and time, nothing about the deployment', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(['status', 'time', 'version']);
  });
});

describe('GET /api/v3/health', () => {
  it('needs an administrator (their keys with security:read) or the secret header', async () => {
    const admin = await registerAndLogin(unique('hadmin'));
    const editor = await registerAndLogin(unique('heditor'));
    expectError(await api('GET', '/api/v3/health'), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/health', secret('not-the-secret-not-the-secret-not-it')), 401, 'unauthorized');
    expectError(await api('GET', '/api/v3/health', { token: editor.token }), 403, 'forbidden');
    expect((await api('GET', '/api/v3/health', { token: admin.token })).status).toBe(200);
    expect((await api('GET', '/api/v3/health', secret(env.HEALTH_CHECK_SECRET))).status).toBe(200);

    const key = async (scopes: string[]) =>
      (await api('POST', '/api/v3/auth/api-keys', { token: admin.token, body: { name: scopes.join(','), scopes } })).json.key as string;
    expect((await api('GET', '/api/v3/health', { apiKey: await key(['security:read']) })).status).toBe(200);
    expectError(await api('GET', '/api/v3/health', { apiKey: await key(['workflows:read']) }), 403, 'forbidden');
  });

  it('tells no user count; the environment only to those allowed to ask', async () => {
    const res = await api('GET', '/api/v3/health', secret(env.HEALTH_CHECK_SECRET));
    expect(res.json.checks.d1).toEqual({ status: 'pass', latency_ms: expect.any(Number) });
    expect(JSON.stringify(res.json)).not.toMatch(/users/);
    expect(res.json.environment).toBe('development');
  });

  it('outside development, a development or short secret opens nothing; a real one does', async () => {
    const devSecret = productionEnv({ HEALTH_CHECK_SECRET: env.HEALTH_CHECK_SECRET });
    expectError(await api('GET', '/api/v3/health', { ...secret(env.HEALTH_CHECK_SECRET), env: devSecret }), 401, 'unauthorized');
    const short = productionEnv({ HEALTH_CHECK_SECRET: 'too-short' });
    expectError(await api('GET', '/api/v3/health', { ...secret('too-short'), env: short }), 401, 'unauthorized');
    const real = 'prod-test-health-secret-1d2c3b4a5f6e7d8c9b0a';
    const res = await api('GET', '/api/v3/health', { ...secret(real), env: productionEnv({ HEALTH_CHECK_SECRET: real }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, max-age=15');
  });

  it('answers one report for 15 seconds, then checks again', async () => {
    const t0 = Date.now() + 3_600_000; // past whatever the tests above cached
    const first = readiness(env, t0);
    expect(readiness(env, t0 + READINESS_CACHE_MS - 1)).toBe(first); // no new round of checks
    // The first round finishes before the next starts, so the next one's report cannot be older.
    const firstReport = await first;
    const later = readiness(env, t0 + READINESS_CACHE_MS);
    expect(later).not.toBe(first);
    expect((await later).time >= firstReport.time).toBe(true);
    const a = await api('GET', '/api/v3/health', secret(env.HEALTH_CHECK_SECRET));
    const b = await api('GET', '/api/v3/health', secret(env.HEALTH_CHECK_SECRET));
    expect(b.json.time).toBe(a.json.time);
  });
});
