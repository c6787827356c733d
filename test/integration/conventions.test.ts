import { env, SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, BASE, expectError, registerAndLogin, simpleNodes, snapshot, unique } from '../helpers';

describe('API conventions', () => {
  it('puts a request id on every response, and echoes a well-formed incoming one', async () => {
    const ok = await api('GET', '/health');
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const err = await api('GET', '/nope');
    expect(err.headers.get('x-request-id')).toBe(err.json.error.requestId);
    const echoed = await api('GET', '/health', { headers: { 'x-request-id': 'trace-abc_123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc_123');
    const refused = await api('GET', '/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(refused.headers.get('x-request-id')).not.toBe('bad id with spaces');
  });

  it('sends security headers', async () => {
    const res = await api('GET', '/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('answers CORS preflights from the configured origins', async () => {
    const res = await SELF.fetch(`${BASE}/api/v3/workflows`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await api('GET', '/api/v3/does-not-exist');
    expectError(res, 404, 'not_found');
    expect(res.json.error.message).toContain('/api/v3/does-not-exist');
  });

  it('refuses bodies over the cap (413), non-JSON bodies (415) and malformed JSON (400), writing nothing', async () => {
    const { token } = await registerAndLogin(unique('conv'));
    const before = await snapshot();
    const huge = JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10), nodes: simpleNodes });
    expectError(await api('POST', '/api/v3/workflows', { token, body: huge }), 413, 'payload_too_large');
    expectError(
      await api('POST', '/api/v3/workflows', { token, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      415,
      'unsupported_media_type',
    );
    expectError(
      await api('POST', '/api/v3/auth/login', { body: '{"username":"x"}', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
    expectError(await api('POST', '/api/v3/workflows', { token, body: '{"name": ' }), 400, 'bad_request');
    expectError(await api('POST', '/api/v3/workflows', { token, body: '[]' }), 400, 'validation_error');
    expect(await snapshot()).toEqual(before);
  });

  it('reports zod issues in details for validation failures', async () => {
    const res = await api('POST', '/api/v3/auth/register', { body: { username: 'x', email: 'not-an-email' } });
    expectError(res, 400, 'validation_error');
    const paths = res.json.error.details.map((d: { path: string[] }) => d.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['username', 'email', 'password']));
  });

  it('serves the OpenAPI document, Swagger UI and ReDoc', async () => {
    const spec = await api('GET', '/openapi.json');
    expect(spec.status).toBe(200);
    expect(spec.json.openapi).toBe('3.1.0');
    expect(Object.keys(spec.json.paths)).toEqual(
      expect.arrayContaining(['/api/v3/workflows', '/api/v3/auth/login', '/api/v3/security/auth/login']),
    );
    for (const page of ['/docs', '/redoc']) {
      const res = await SELF.fetch(`${BASE}${page}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toMatch(/"\/openapi\.json"|\/docs\/assets\/swagger-init\.js/); // Swagger UI's initializer names it
      // Issue 17, finding 10: served from this origin (pinned npm packages), nothing from a CDN.
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self';");
      expect(res.headers.get('content-security-policy')).not.toMatch(/https?:|unsafe-eval/);
    }
  });
});

describe('health', () => {
  it('GET /health is a cheap liveness probe', async () => {
    const res = await api('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', version: expect.any(String) });
  });

  it('GET /api/v3/health checks every binding for real', async () => {
    // For administrators or a monitor with the secret header (test/integration/health.security.test.ts).
    const res = await api('GET', '/api/v3/health', { headers: { 'x-health-secret': env.HEALTH_CHECK_SECRET } });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe('healthy');
    for (const name of ['d1', 'kv', 'durable_objects', 'queue', 'secrets']) expect(res.json.checks[name].status, name).toBe('pass');
    // .dev.vars makes the tests' provider local; the [ai] binding is declared (it only runs on Cloudflare).
    expect(res.json.ai).toMatchObject({ provider: 'local', chain: ['local'], configured: { local: true, 'workers-ai': true } });
  });
});
