import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, expectError, registerAndLogin, unique } from '../helpers';
import { connectWs } from '../ws-client';

/*
 * Issue 17, finding 4: the WebSocket upgrade goes through the same guard as every REST route (IP
 * rules, rate limits, role and scope), browsers connect with a single-use ticket instead of a
 * credential in the URL, API keys are refused in the URL, and a socket closes within seconds of
 * its session ending or its key being revoked.
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
let user: Awaited<ReturnType<typeof registerAndLogin>>;

const newKey = async (token: string, scopes: string[]) =>
  (await api('POST', '/api/v3/auth/api-keys', { token, body: { name: unique('k'), scopes } })).json as { id: number; key: string };
const ticket = async (auth: { token?: string; apiKey?: string }) => {
  const res = await api('POST', '/api/v3/ws/ticket', auth);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  expect(res.json.expires_in).toBe(30);
  return res.json.ticket as string;
};

beforeAll(async () => {
  admin = await registerAndLogin(unique('wsadmin'));
  user = await registerAndLogin(unique('wsuser'));
});

describe('the WebSocket upgrade and the guard', () => {
  it("applies an API key's IP rules to the upgrade as to REST", async () => {
    const { id, key } = await newKey(user.token, ['workflows:read']);
    await api('POST', `/api/v3/auth/api-keys/${id}/ip-rules`, { token: user.token, body: { action: 'allow', cidr: '203.0.113.0/24' } });
    const outside = { 'cf-connecting-ip': '198.51.100.7' };
    expectError(await api('GET', '/api/v3/workflows', { apiKey: key, headers: outside }), 403, 'forbidden');
    const refused = await connectWs({ headers: { ...outside, 'x-api-key': key } });
    expect(refused.res.status).toBe(403);
    expect(refused.res.webSocket).toBeNull();
    const inside = await connectWs({ headers: { 'cf-connecting-ip': '203.0.113.9', 'x-api-key': key } });
    expect(inside.res.status).toBe(101);
    expect((await inside.waitFor((f) => f.type === 'welcome')).user_id).toBe(user.user.id);
    inside.close();
  });

  it('refuses an API key in ?token= or the subprotocol, whatever its rules', async () => {
    const { key } = await newKey(user.token, ['workflows:read']);
    const inUrl = await connectWs({ token: key });
    expect(inUrl.res.status).toBe(401);
    const inProtocol = await connectWs({ protocols: ['dwc.v1', `bearer.${key}`] });
    expect(inProtocol.res.status).toBe(401);
  });

  it("needs the key's workflows:read scope, for the upgrade and for a ticket", async () => {
    const { key } = await newKey(user.token, ['documents:read']);
    expect((await connectWs({ headers: { 'x-api-key': key } })).res.status).toBe(403);
    expectError(await api('POST', '/api/v3/ws/ticket', { apiKey: key }), 403, 'forbidden');
  });

  it("counts upgrades against the key's rate limits", async () => {
    const put = (limit: number) =>
      api('PUT', '/api/v3/security/rate-limits/api-key-minute', {
        token: admin.token,
        body: { subject: 'api_key', route_class: 'all', limit, window_seconds: 60 },
      });
    expect((await put(2)).status).toBe(200);
    try {
      const { key } = await newKey(user.token, ['workflows:read']);
      for (let i = 0; i < 2; i++) {
        const c = await connectWs({ headers: { 'x-api-key': key } });
        expect(c.res.status).toBe(101);
        c.close();
      }
      const limited = await connectWs({ headers: { 'x-api-key': key } });
      expect(limited.res.status).toBe(429);
      expect(limited.res.headers.get('ratelimit-policy')).toContain('api-key-minute');
    } finally {
      await api('DELETE', '/api/v3/security/rate-limits/api-key-minute', { token: admin.token });
    }
  });
});

describe('tickets', () => {
  it('open one socket each, once, within 30 seconds', async () => {
    const t = await ticket({ token: user.token });
    const c = await connectWs({ query: `ticket=${t}` });
    expect(c.res.status).toBe(101);
    expect((await c.waitFor((f) => f.type === 'welcome')).user_id).toBe(user.user.id);
    c.close();
    expect((await connectWs({ query: `ticket=${t}` })).res.status).toBe(401);

    const stale = await ticket({ token: user.token });
    await env.DB.prepare('UPDATE socket_tickets SET expires_at = ? WHERE used_at IS NULL')
      .bind(Date.now() - 1)
      .run();
    expect((await connectWs({ query: `ticket=${stale}` })).res.status).toBe(401);
    expect((await connectWs({ query: 'ticket=dwct_forged' })).res.status).toBe(401);
  });

  it('stand for the session that asked: a ticket of an ended session opens nothing', async () => {
    const other = await registerAndLogin(unique('wsgone'));
    const t = await ticket({ token: other.token });
    await api('POST', '/api/v3/auth/logout', { token: other.token });
    expect((await connectWs({ query: `ticket=${t}` })).res.status).toBe(401);
  });
});

describe('open sockets', () => {
  it('close within seconds of their session ending', async () => {
    const s = await registerAndLogin(unique('wsend'));
    const c = await connectWs({ query: `ticket=${await ticket({ token: s.token })}` });
    await c.waitFor((f) => f.type === 'welcome');
    const started = Date.now();
    expect((await api('POST', '/api/v3/auth/logout', { token: s.token })).status).toBe(204);
    const closed = await c.closed;
    expect(closed.code).toBe(4401);
    expect(Date.now() - started).toBeLessThan(12_000);
  }, 20_000);

  it('close within seconds of their API key being revoked; other sockets stay', async () => {
    const { id, key } = await newKey(user.token, ['workflows:read']);
    const byKey = await connectWs({ headers: { 'x-api-key': key } });
    const bySession = await connectWs({ query: `ticket=${await ticket({ token: user.token })}` });
    await byKey.waitFor((f) => f.type === 'welcome');
    expect((await api('DELETE', `/api/v3/auth/api-keys/${id}`, { token: user.token })).status).toBe(204);
    expect((await byKey.closed).code).toBe(4401);
    bySession.send({ type: 'ping' });
    expect((await bySession.waitFor((f) => f.type === 'pong')).type).toBe('pong');
    bySession.close();
  }, 20_000);
});
