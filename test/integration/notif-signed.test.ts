import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, registerAndLogin, unique } from '../helpers';
import { hookStats } from './tasks-helpers';
import { providerLog, saveChannel, sendOne, waitForDelivery } from './notif-helpers';

/*
 * The two channels with cryptography, checked from the receiving side with the published
 * algorithms: Standard Webhooks signatures (HMAC-SHA256 over "id.timestamp.body", secret
 * rotation with two signatures), and Web Push — the payload decrypted with the private key and
 * auth secret a browser would hold (RFC 8291), the VAPID JWT verified (RFC 8292).
 */
let admin: Awaited<ReturnType<typeof registerAndLogin>>;
beforeAll(async () => {
  admin = await registerAndLogin(unique('nsig'));
});

const enc = new TextEncoder();
const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const b64url = (bytes: ArrayBuffer | Uint8Array) => b64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64url = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0));

/** Standard Webhooks verification as the specification gives it: base64 HMAC-SHA256 of "id.ts.body", key = base64-decoded secret after whsec_. */
async function expectedSignature(secret: string, id: string, ts: string, body: string) {
  const key = await crypto.subtle.importKey(
    'raw',
    Uint8Array.from(atob(secret.slice('whsec_'.length)), (c) => c.charCodeAt(0)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return `v1,${b64(await crypto.subtle.sign('HMAC', key, enc.encode(`${id}.${ts}.${body}`)))}`;
}

describe('webhook (Standard Webhooks)', () => {
  it('signs each delivery; the signature verifies with the secret shown once at save', async () => {
    const tag = unique('swh');
    const saved = await saveChannel(admin.token, 'webhook', 'erp', { settings: { url: `http://hooks.test/${tag}/ok` } });
    const secret: string = saved.revealed.signing_secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(saved.secrets.signing_secret).not.toContain(secret.slice(6, 20));

    const d = await sendOne(admin.token, {
      channel: 'webhook',
      recipient: 'erp',
      subject: 'Invoice',
      message: 'Paid',
      data: { invoice: 7 },
    });
    expect((await waitForDelivery(admin.token, d.id)).status).toBe('sent');
    const [req] = (await hookStats(tag)).requests;
    expect(req!.method).toBe('POST');
    expect(req!.headers['webhook-id']).toBe(`notif_${d.id}`);
    expect(Math.abs(Number(req!.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(req!.headers['webhook-signature']).toBe(
      await expectedSignature(secret, req!.headers['webhook-id']!, req!.headers['webhook-timestamp']!, req!.body),
    );
    expect(JSON.parse(req!.body)).toEqual({
      type: 'notification',
      timestamp: expect.any(String),
      data: { id: d.id, subject: 'Invoice', message: 'Paid', priority: 'normal', data: { invoice: 7 } },
    });
  });

  it('after a rotation signs with the new and the previous secret, space-separated', async () => {
    const tag = unique('rot');
    const saved = await saveChannel(admin.token, 'webhook', 'rot', { settings: { url: `http://hooks.test/${tag}/ok` } });
    const rotated = await api('POST', '/api/v3/notifications/channels/webhook/rot/rotate-secret', { token: admin.token });
    expect(rotated.status, JSON.stringify(rotated.json)).toBe(200);
    expect(rotated.json.signing_secret).not.toBe(saved.revealed.signing_secret);
    const d = await sendOne(admin.token, { channel: 'webhook', recipient: 'rot', subject: 's', message: 'm' });
    await waitForDelivery(admin.token, d.id);
    const [req] = (await hookStats(tag)).requests;
    const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig } = req!.headers as Record<string, string>;
    expect(sig!.split(' ')).toEqual([
      await expectedSignature(rotated.json.signing_secret, id!, ts!, req!.body),
      await expectedSignature(saved.revealed.signing_secret, id!, ts!, req!.body),
    ]);
  });

  it('refuses private, metadata and non-https URLs when saved', async () => {
    for (const url of ['http://169.254.169.254/latest/meta-data', 'https://10.0.0.1/x', 'http://example.com/x', 'https://localhost/x']) {
      const res = await api('PUT', '/api/v3/notifications/channels/webhook/bad', { token: admin.token, body: { settings: { url } } });
      expect(res.status, url).toBe(400);
    }
  });
});

/** RFC 8291 §3.3-3.4 from the user agent's side, with the HMAC formulation of HKDF the RFC writes out. */
async function decryptPush(body: Uint8Array, uaKeys: CryptoKeyPair, uaPublic: Uint8Array, authSecret: Uint8Array): Promise<string> {
  const hmac = async (key: Uint8Array, data: Uint8Array) =>
    new Uint8Array(
      await crypto.subtle.sign('HMAC', await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']), data),
    );
  const cat = (...a: Uint8Array[]) => Uint8Array.from(a.flatMap((x) => [...x]));
  const salt = body.slice(0, 16);
  const rs = new DataView(body.buffer, body.byteOffset).getUint32(16);
  const idlen = body[20]!;
  const asPublic = body.slice(21, 21 + idlen);
  const ciphertext = body.slice(21 + idlen);
  expect(rs).toBeGreaterThanOrEqual(ciphertext.byteLength);
  expect(idlen).toBe(65);
  const asKey = await crypto.subtle.importKey('raw', asPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const ecdh = new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'ECDH', public: asKey } as unknown as SubtleCryptoDeriveKeyAlgorithm, uaKeys.privateKey, 256),
  );
  const prkKey = await hmac(authSecret, ecdh);
  const ikm = await hmac(prkKey, cat(enc.encode('WebPush: info\0'), uaPublic, asPublic, new Uint8Array([1])));
  const prk = await hmac(salt, ikm);
  const cek = (await hmac(prk, cat(enc.encode('Content-Encoding: aes128gcm\0'), new Uint8Array([1])))).slice(0, 16);
  const nonce = (await hmac(prk, cat(enc.encode('Content-Encoding: nonce\0'), new Uint8Array([1])))).slice(0, 12);
  const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt']);
  const padded = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, ciphertext));
  let end = padded.length - 1;
  while (padded[end] === 0) end--;
  expect(padded[end]).toBe(2); // the last record's delimiter
  return new TextDecoder().decode(padded.slice(0, end));
}

describe('Web Push', () => {
  it('encrypts the payload for the subscription (aes128gcm) and authorises with a VAPID ES256 JWT', async () => {
    const saved = await saveChannel(admin.token, 'push', 'default', { settings: { subject: 'mailto:ops@acme.example' } }, 'global');
    const vapidPublic = saved.settings.vapid_public_key as string;
    expect(unb64url(vapidPublic)).toHaveLength(65);
    expect((await api('GET', '/api/v3/notifications/push/vapid-public-key', { token: admin.token })).json).toEqual({
      public_key: vapidPublic,
    });

    // What a browser does: a P-256 key pair and a 16-byte auth secret per subscription.
    const ua = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    const uaPublic = new Uint8Array((await crypto.subtle.exportKey('raw', ua.publicKey)) as ArrayBuffer);
    const auth = crypto.getRandomValues(new Uint8Array(16));
    const endpoint = `https://fcm.googleapis.com/fcm/send/${unique('sub')}`;
    const sub = await api('POST', '/api/v3/notifications/push/subscriptions', {
      token: admin.token,
      body: { endpoint, expirationTime: null, keys: { p256dh: b64url(uaPublic), auth: b64url(auth) } },
    });
    expect(sub.status, JSON.stringify(sub.json)).toBe(201);

    const d = await sendOne(admin.token, {
      channel: 'push',
      recipient: admin.user.username,
      subject: 'Build done',
      message: 'All green',
      priority: 'urgent',
      data: { url: '/runs/1' },
    });
    expect((await waitForDelivery(admin.token, d.id)).status).toBe('sent');
    const [req, ...more] = await providerLog('fcm.googleapis.com', endpoint.split('/').at(-1)!);
    expect(more).toEqual([]);
    expect(req).toMatchObject({ method: 'POST', url: endpoint });
    expect(req!.headers).toMatchObject({
      'content-encoding': 'aes128gcm',
      'content-type': 'application/octet-stream',
      ttl: '86400',
      urgency: 'high',
    });

    const body = Uint8Array.from(atob(req!.body_b64), (c) => c.charCodeAt(0));
    expect(JSON.parse(await decryptPush(body, ua, uaPublic, auth))).toEqual({
      id: d.id,
      title: 'Build done',
      body: 'All green',
      priority: 'urgent',
      data: { url: '/runs/1' },
    });

    const m = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(req!.headers.authorization!);
    expect(m).not.toBeNull();
    const [, h, c, s, k] = m!;
    expect(k).toBe(vapidPublic);
    expect(JSON.parse(new TextDecoder().decode(unb64url(h!)))).toEqual({ typ: 'JWT', alg: 'ES256' });
    const claims = JSON.parse(new TextDecoder().decode(unb64url(c!)));
    expect(claims).toMatchObject({ aud: 'https://fcm.googleapis.com', sub: 'mailto:ops@acme.example' });
    expect(claims.exp - Date.now() / 1000).toBeGreaterThan(0);
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(24 * 3600);
    const verifyKey = await crypto.subtle.importKey('raw', unb64url(k!), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    expect(await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifyKey, unb64url(s!), enc.encode(`${h}.${c}`))).toBe(true);
  });

  it('drops a subscription the push service says is gone (410), without retrying', async () => {
    const ua = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    const endpoint = `https://updates.push.services.mozilla.com/wpush/v2/${unique('gone')}`;
    await fetch('http://hooks.test/provider-script', {
      method: 'POST',
      body: JSON.stringify({ match: endpoint.split('/').at(-1), script: 'status-410' }),
    });
    const uaPublic = new Uint8Array((await crypto.subtle.exportKey('raw', ua.publicKey)) as ArrayBuffer);
    const sub = await api('POST', '/api/v3/notifications/push/subscriptions', {
      token: admin.token,
      body: { endpoint, keys: { p256dh: b64url(uaPublic), auth: b64url(crypto.getRandomValues(new Uint8Array(16))) } },
    });
    const before = (await api('GET', '/api/v3/notifications/push/subscriptions', { token: admin.token })).json.items.length;
    const d = await api('POST', '/api/v3/notifications/send', {
      token: admin.token,
      body: { channel: 'push', recipient: String(admin.user.id), subject: 's', message: 'm' },
    });
    const mine = d.json.deliveries.find((x: { subscription_id: number }) => x.subscription_id === sub.json.id);
    const done = await waitForDelivery(admin.token, mine.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, provider_status: 410 });
    const after = (await api('GET', '/api/v3/notifications/push/subscriptions', { token: admin.token })).json.items;
    expect(after).toHaveLength(before - 1);
    expect(after.map((s: { id: number }) => s.id)).not.toContain(sub.json.id);
  });

  it('refuses subscriptions with bad keys or private endpoints', async () => {
    const bad = [
      { endpoint: 'https://fcm.googleapis.com/x', keys: { p256dh: 'AAAA', auth: 'AAAA' } },
      { endpoint: 'http://127.0.0.1/push', keys: { p256dh: b64url(new Uint8Array(65).fill(4)), auth: b64url(new Uint8Array(16)) } },
    ];
    for (const body of bad)
      expect((await api('POST', '/api/v3/notifications/push/subscriptions', { token: admin.token, body })).status).toBe(400);
  });
});

describe('send-time URL check', () => {
  it('refuses at send time a stored URL the SSRF guard no longer allows, without calling it or retrying', async () => {
    await saveChannel(admin.token, 'webhook', 'drift', { settings: { url: `http://hooks.test/${unique('drift')}/ok` } });
    // As if the URL had been stored under an older, looser policy.
    await env.DB.prepare("UPDATE notification_channels SET settings = ? WHERE channel = 'webhook' AND name = 'drift'")
      .bind(JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/' }))
      .run();
    const d = await sendOne(admin.token, { channel: 'webhook', recipient: 'drift', subject: 's', message: 'm' });
    const done = await waitForDelivery(admin.token, d.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringContaining('may not be called') });
    const foreign = ((await (await fetch('http://hooks.test/foreign')).json()) as { urls: string[] }).urls;
    expect(foreign.filter((u) => u.includes('169.254.169.254'))).toEqual([]);
  });
});
