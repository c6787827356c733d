import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../src/notifications/webpush';
import { api, registerAndLogin, STRONG_PASSWORD, unique } from '../helpers';

/*
 * No secret is stored in D1 in a form that gives it back: passwords, refresh tokens, API keys,
 * recovery codes and reset tokens are hashed; webhook signing secrets, TOTP secrets and
 * notification channel secrets are encrypted (AES-256-GCM, bound to their row). This file
 * creates one of each through the API, keeps every plaintext the API handed out, then reads every row of every table and searches
 * them for each plaintext (and its common re-encodings).
 */
const secrets = new Map<string, string>();
let ownerName = '';

async function dumpDatabase(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
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

  // Notification channel secrets: API keys, auth tokens, secret webhook URLs, signing secrets,
  // the VAPID private key and a push subscription's auth secret.
  const vapid = await generateVapidKeys();
  const channelSecrets: [string, string, Record<string, unknown>, string][] = [
    [
      'email',
      'default',
      { settings: { provider: 'resend', from: 'a@acme.example' }, secrets: { api_key: 're_secret_at_rest_9876543210' } },
      'mine',
    ],
    [
      'sms',
      'default',
      { settings: { account_sid: `AC${'ab'.repeat(16)}`, from: '+15005550006' }, secrets: { auth_token: 'twilio-token-at-rest-123456' } },
      'mine',
    ],
    ['slack', 'x', { secrets: { webhook_url: 'https://hooks.slack.com/services/T1/B1/slacksecretatrest' } }, 'mine'],
    ['discord', 'x', { secrets: { webhook_url: 'https://discord.com/api/webhooks/1/discordsecretatrest' } }, 'mine'],
    [
      'teams',
      'x',
      { secrets: { webhook_url: 'https://prod-00.westus.logic.azure.com/workflows/teamssecretatrest/triggers/manual/paths/invoke' } },
      'mine',
    ],
    ['webhook', 'x', { settings: { url: 'https://hooks.example.com/in' } }, 'mine'],
    [
      'push',
      'default',
      {
        settings: { subject: 'mailto:a@acme.example', vapid_public_key: vapid.publicKey },
        secrets: { vapid_private_key: vapid.privateKey },
      },
      'global',
    ],
  ];
  for (const [channel, name, body, scope] of channelSecrets) {
    const res = await api('PUT', `/api/v3/notifications/channels/${channel}/${name}?scope=${scope}`, { token: owner.token, body });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    for (const [field, value] of Object.entries((body.secrets ?? {}) as Record<string, string>)) secrets.set(`${channel} ${field}`, value);
    if (res.json.revealed?.signing_secret) secrets.set('notification webhook signing secret', res.json.revealed.signing_secret);
  }
  const pushAuth = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  const sub = await api('POST', '/api/v3/notifications/push/subscriptions', {
    token: owner.token,
    body: { endpoint: 'https://fcm.googleapis.com/fcm/send/at-rest', keys: { p256dh: vapid.publicKey, auth: pushAuth } },
  });
  expect(sub.status, JSON.stringify(sub.json)).toBe(201);
  secrets.set('push subscription auth secret', pushAuth);
  const hookAutomation = await api('POST', '/api/v3/automations', {
    token: owner.token,
    body: {
      name: 'at rest',
      trigger: { type: 'webhook' },
      actions: [{ type: 'send_notification', parameters: { channel: 'in_app', message: 'hi' } }],
    },
  });
  expect(hookAutomation.status, JSON.stringify(hookAutomation.json)).toBe(201);
  secrets.set('automation webhook secret', hookAutomation.json.webhook_secret);
  secrets.set('automation webhook secret key bytes', hookAutomation.json.webhook_secret.replace(/^whsec_/, ''));

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
