import { SELF } from 'cloudflare:test';
import { hc } from 'hono/client';
import { expect, it } from 'vitest';
import type { AppType } from '../../src/index';
import { BASE, STRONG_PASSWORD, unique } from '../helpers';

// (`!`: with noUncheckedIndexedAccess, hono/client types sibling paths under /auth as optional.)
it('exports the app type for a typed hono/client', async () => {
  const client = hc<AppType>(BASE, { fetch: (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init) });
  const username = unique('typed');
  const reg = await client.api.v3.auth.register!.$post({ json: { username, email: `${username}@example.com`, password: STRONG_PASSWORD } });
  expect(reg.status).toBe(201);
  const login = await client.api.v3.auth.login!.$post({ json: { username, password: STRONG_PASSWORD } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const signedIn = await login.json();
  // The 200 is a union: tokens, or an MFA challenge for accounts with a second factor.
  if ('mfa_required' in signedIn) throw new Error('unexpected MFA challenge');
  const { access_token } = signedIn;
  const headers = { authorization: `Bearer ${access_token}` };
  const created = await client.api.v3.workflows.$post(
    { json: { name: 'typed', nodes: [{ id: 'a', type: 'generate', prompt: 'Hello {{input.name}}' }] } },
    { headers },
  );
  if (created.status !== 201) throw new Error(`create failed: ${created.status}`);
  const wf = await created.json();
  const got = await client.api.v3.workflows[':id'].$get({ param: { id: String(wf.id) } }, { headers });
  if (got.status !== 200) throw new Error(`get failed: ${got.status}`);
  expect((await got.json()).nodes[0]?.id).toBe('a');
});
