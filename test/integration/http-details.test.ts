import { SELF } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { api, BASE, expectError } from '../helpers';

/*
 * Issue 18, item 6: a known path asked with the wrong method answers 405 with `Allow` (it used to
 * read as an unknown route, 404); the icon and the seeds' `/status` exist.
 */
describe('405 Method Not Allowed', () => {
  it.each([
    ['DELETE', '/health', 'GET, HEAD, OPTIONS'],
    ['PUT', '/api/v3/workflows', 'GET, HEAD, POST, OPTIONS'],
    ['POST', '/api/v3/workflows/123', 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
    ['DELETE', '/api/v3/documents/7', 'GET, HEAD, PATCH, OPTIONS'],
    ['GET', '/api/v3/auth/login', 'POST, OPTIONS'],
    ['PUT', '/console/app.js', 'GET, HEAD, OPTIONS'],
  ])('%s %s answers 405 with Allow: %s', async (method, path, allow) => {
    const res = await api(method, path, method === 'GET' ? {} : { body: {} });
    expectError(res, 405, 'method_not_allowed');
    expect(res.headers.get('allow')).toBe(allow);
    expect(res.json.error.message).toContain(`${method} is not allowed on ${path}`);
    // The usual headers of every response are there too.
    expect(res.headers.get('x-request-id')).toBe(res.json.error.requestId);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers a HEAD on a path without GET with 405 and Allow, and no body', async () => {
    const res = await SELF.fetch(`${BASE}/api/v3/auth/login`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST, OPTIONS');
    expect(await res.text()).toBe('');
  });

  it('still answers unknown paths 404, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/api/v3/does-not-exist'],
      ['DELETE', '/api/v3/does-not-exist'],
      ['GET', '/api/v3/workflows/1/no-such-thing'],
      ['POST', '/healthz'],
    ] as const) {
      const res = await api(method, path);
      expectError(res, 404, 'not_found');
      expect(res.headers.get('allow'), `${method} ${path}`).toBeNull();
    }
  });

  it('leaves HEAD on GET routes and CORS preflights as they were', async () => {
    const head = await SELF.fetch(`${BASE}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const preflight = await SELF.fetch(`${BASE}/api/v3/workflows/123`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'DELETE' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
  });

  it('keeps a matched route that answers 404 itself a 404', async () => {
    const res = await api('GET', '/console/no-such-asset.js');
    expectError(res, 404, 'not_found');
    expect(res.headers.get('allow')).toBeNull();
  });
});

describe('favicon', () => {
  it.each(['/favicon.svg', '/favicon.ico'])('GET %s is a public, cacheable SVG', async (path) => {
    const res = await SELF.fetch(`${BASE}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/svg+xml');
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    expect(await res.text()).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('is referenced by the console and the documentation pages', async () => {
    for (const page of ['/console', '/docs', '/redoc'])
      expect(await (await SELF.fetch(`${BASE}${page}`)).text(), page).toContain('href="/favicon.svg"');
  });
});

describe('/status', () => {
  it('answers without credentials, with the version and nothing about the data', async () => {
    const res = await api('GET', '/status');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'ok', version: expect.any(String), links: { liveness: '/health', docs: '/docs' } });
    expect(Object.keys(res.json).sort()).toEqual(['links', 'service', 'status', 'time', 'version']);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
