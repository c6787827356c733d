import { env } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, expectError, registerAndLogin, simpleNodes, snapshot, STRONG_PASSWORD, unique } from '../helpers';

/*
 * Issue 17, finding 10, the lower items that need the whole worker: a metric total cannot be
 * driven to +Inf, the rate limiter failing has a documented outcome instead of a 500, and the API
 * documentation pages load pinned files from this origin instead of a CDN.
 */
afterEach(() => vi.restoreAllMocks());

describe('metric totals', () => {
  it('refuse a value that would make a total non-finite (409), and keep the total as it was', async () => {
    const { token } = await registerAndLogin(unique('metrics'));
    const name = unique('huge');
    const record = (value: number) => api('POST', '/api/v3/metrics/counter', { token, body: { name, value } });
    expect((await record(1e308)).status).toBe(201);
    const refused = await record(1e308);
    expectError(refused, 409, 'conflict');
    expect(refused.json.error.message).toMatch(/non-finite/);
    const gauge = unique('gauge');
    expect((await api('POST', '/api/v3/metrics/gauge', { token, body: { name: gauge, value: -1.7e308 } })).status).toBe(201);
    expectError(
      await api('POST', '/api/v3/metrics/gauge', { token, body: { name: gauge, value: -1.7e308, mode: 'add' } }),
      409,
      'conflict',
    );
    const prom = await api('GET', '/metrics', { token });
    expect(prom.status).toBe(200);
    const lines = String(prom.json)
      .split('\n')
      .filter((l) => l.startsWith(name) || l.startsWith(gauge));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(Number.isFinite(Number(line.split(' ').at(-1))), line).toBe(true);
  });
});

/** This file's bindings with a limiter whose every object fails, as during an outage of the class. */
function brokenLimiter(): Env {
  const down = () => Promise.reject(new Error('limiter object unreachable'));
  const stub = { hitAll: down, hit: down, attempt: down, probe: down };
  const ns = { idFromName: (n: string) => n, get: () => stub, getByName: () => stub };
  return { ...env, RATE_LIMITER: ns, LOG_LEVEL: 'error' } as unknown as Env;
}

describe('when the rate limiter fails', () => {
  it('reads pass, writes and sign-ins are refused with 503 and Retry-After, and the reason is logged', async () => {
    const { token, user } = await registerAndLogin(unique('limited'));
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = brokenLimiter();
    const from = { 'cf-connecting-ip': '203.0.113.77' };

    const read = await api('GET', '/api/v3/workflows', { token, headers: from, env: broken });
    expect(read.status, JSON.stringify(read.json)).toBe(200);

    const before = await snapshot();
    const write = await api('POST', '/api/v3/workflows', { token, headers: from, env: broken, body: { name: 'w', nodes: simpleNodes } });
    expectError(write, 503, 'service_unavailable');
    expect(write.headers.get('retry-after')).toBe('5');
    const signIn = await api('POST', '/api/v3/auth/login', {
      headers: from,
      env: broken,
      body: { username: user.username, password: STRONG_PASSWORD },
    });
    expectError(signIn, 503, 'service_unavailable');
    expect(await snapshot()).toEqual(before);

    const lines = errors.mock.calls.map((args) => JSON.parse(String(args[0])));
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          msg: 'rate limiter unavailable',
          outcome: 'allowed (fail open: read)',
          failure: 'limiter object unreachable',
        }),
        expect.objectContaining({
          msg: 'rate limiter unavailable',
          outcome: 'refused (fail closed: write)',
          route_classes: ['all', 'write'],
        }),
        expect.objectContaining({ msg: 'rate limiter unavailable', outcome: 'refused (fail closed: write)', route_classes: ['auth'] }),
      ]),
    );
  });
});

describe('the API documentation pages', () => {
  it('load their scripts and stylesheet from this origin only, and keep no token in localStorage', async () => {
    const pkg = (await import('../../package.json')).default as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies['swagger-ui-dist']).toMatch(/^\d+\.\d+\.\d+$/); // pinned, not a range
    expect(pkg.devDependencies.redoc).toMatch(/^\d+\.\d+\.\d+$/);
    for (const page of ['/docs', '/redoc']) {
      const res = await api('GET', page);
      expect(res.status).toBe(200);
      const html = String(res.json);
      const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(urls.length, page).toBeGreaterThan(0);
      // Its scripts and stylesheet from /docs/assets, and the service's icon.
      for (const url of urls) expect(url, page).toMatch(/^(\/docs\/assets\/|\/favicon\.svg$)/);
      expect(html).not.toMatch(/<script>|persistAuthorization: ?true|cdn\./);
      for (const url of urls.filter((u) => u.startsWith('/docs/assets/'))) {
        const asset = await api('GET', url);
        expect(asset.status, url).toBe(200);
        expect(asset.headers.get('content-type'), url).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      }
    }
    const init = await api('GET', '/docs/assets/swagger-init.js');
    expect(String(init.json)).toContain('persistAuthorization: false');
    expect(String((await api('GET', '/docs/assets/swagger-ui-bundle.js')).json)).toContain('SwaggerUIBundle');
    expect(String((await api('GET', '/docs/assets/redoc.standalone.js')).json)).toContain('Redoc');
    expectError(await api('GET', '/docs/assets/../../wrangler.toml'), 404, 'not_found');
    expectError(await api('GET', '/docs/assets/other.js'), 404, 'not_found'); // documented: an unknown file is not found
  });
});
