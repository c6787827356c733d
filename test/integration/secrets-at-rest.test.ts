import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';

/*
 * No secret is stored in D1 in a form that gives it back: passwords, refresh tokens, API keys,
 * recovery codes and reset tokens are hashed; webhook signing secrets and TOTP secrets are
 * encrypted (AES-256-GCM, bound to their row). This file creates one of each through the API,
 * keeps every plaintext the API handed out, then reads every row of every table and searches
 * them for each plaintext (and its common re-encodings).
 */
const secrets = new Map<string, string>();
let ownerName = '';

async function dumpDatabase(): Promise<string> {
  const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
  const parts: string[] = [];
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    parts.push(`${name}: ${JSON.stringify(rows.results)}`);
  }
  return parts.join('\n');
}

const encodings = (s: string) => {
  const bytes = new TextEncoder().encode(s);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return [s, btoa(s), hex, encodeURIComponent(s)];
};

beforeAll(async () => {
  ownerName = unique('sarowner');
  const owner = await registerAndLogin(ownerName);
  secrets.set('password', STRONG_PASSWORD);
  secrets.set('refresh token', owner.refresh);
  secrets.set('access token', owner.token);

  const key = await api('POST', '/api/v3/auth/api-keys', { token: owner.token, body: { name: 'k', scopes: ['workflows:read'] } });
  expect(key.status).toBe(201);
  secrets.set('API key', key.json.key);

  const hook = await api('GET', '/api/v3/background/webhooks/signing-secret', { token: owner.token });
  expect(hook.status, JSON.stringify(hook.json)).toBe(200);
  secrets.set('webhook secret', hook.json.secret);
  secrets.set('webhook secret key bytes', hook.json.secret.replace(/^whsec_/, ''));
  const rotated = await api('POST', '/api/v3/background/webhooks/signing-secret/rotate', { token: owner.token });
  expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
  secrets.set('rotated webhook secret', rotated.json.secret);

  secrets.set('JWT_SECRET', env.JWT_SECRET);
  secrets.set('PASSWORD_PEPPER', env.PASSWORD_PEPPER);
  secrets.set('ENCRYPTION_KEYS', env.ENCRYPTION_KEYS.split(':')[1]!);
});

describe('secrets at rest', () => {
  it('stores no secret the API handed out, in any table, in any common encoding', async () => {
    const dump = await dumpDatabase();
    // A positive control: the dump does contain what is meant to be stored in clear.
    expect(dump).toContain(ownerName);
    expect(dump).toContain('pbkdf2-sha256$100000$');
    const found = [...secrets].flatMap(([label, value]) => (encodings(value).some((e) => dump.includes(e)) ? [label] : []));
    expect(found).toEqual([]);
  });

  it('stores the webhook secret as a ciphertext bound to its row', async () => {
    const row = await env.DB.prepare('SELECT user_id, secret FROM webhook_secrets LIMIT 1').first<{ user_id: number; secret: string }>();
    expect(row?.secret).toMatch(/^enc:dev:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
  });
});
