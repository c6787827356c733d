import { z } from '@hono/zod-openapi';
import { dropSubscription, openSubscription } from '../subscriptions';
import { encryptPushPayload, generateVapidKeys, MAX_PUSH_PLAINTEXT, vapidAuthorization, vapidKeysMatch } from '../webpush';
import { callProvider, guardUrl } from './http';
import { ChannelError, type Channel, type Message, type Priority } from './types';

const Settings = z.strictObject({
  subject: z
    .string()
    .max(200)
    .regex(/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/, 'a mailto: or https: contact URI (RFC 8292 §2.1)'),
  vapid_public_key: z.string().max(100).optional(),
  ttl_seconds: z.number().int().min(0).max(2_419_200).default(86_400),
});
const Secrets = z.strictObject({
  vapid_private_key: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url')
    .optional(),
});

/** RFC 8030 §5.3 Urgency: what a push service may use to save the device's battery. */
const URGENCY: Record<Priority, string> = { low: 'low', normal: 'normal', high: 'high', urgent: 'high' };

/** The push message the service worker receives: JSON, with the body cut to fit one record. */
function payloadOf(m: Message): Uint8Array {
  const enc = new TextEncoder();
  let body = m.body;
  for (;;) {
    const bytes = enc.encode(JSON.stringify({ id: m.deliveryId, title: m.subject, body, priority: m.priority, data: m.data }));
    if (bytes.byteLength <= MAX_PUSH_PLAINTEXT) return bytes;
    if (!body) throw new ChannelError('the push message does not fit in 4 KB even without its body', false);
    body = body.slice(0, Math.floor(body.length * 0.8));
  }
}

/**
 * Web Push: one POST per subscription to its endpoint, encrypted (RFC 8291 aes128gcm) and
 * authorised with VAPID (RFC 8292). A 404/410 means the browser dropped the subscription: it is
 * deleted and the delivery fails without retry.
 */
export const pushChannel: Channel = {
  name: 'push',
  needsConfig: true,
  recipientIsConfig: false,
  settings: Settings,
  secrets: Secrets as z.ZodType<Record<string, string>>,
  checkConfig(_env, settings, secrets) {
    const s = Settings.parse(settings);
    return s.vapid_public_key && secrets.vapid_private_key ? null : 'a VAPID key pair is needed';
  },
  async prepare(settings, secrets) {
    const s = Settings.parse(settings);
    if (secrets.vapid_private_key || s.vapid_public_key) {
      const keys = { publicKey: s.vapid_public_key ?? '', privateKey: secrets.vapid_private_key ?? '' };
      if (!(await vapidKeysMatch(keys)))
        throw new ChannelError('vapid_public_key and secrets.vapid_private_key must be given together and form one P-256 key pair', false);
      return { settings: s, secrets };
    }
    const keys = await generateVapidKeys();
    return { settings: { ...s, vapid_public_key: keys.publicKey }, secrets: { vapid_private_key: keys.privateKey } };
  },
  checkRecipient: (r) => (/^\S{1,100}$/.test(r) ? null : 'a username or user id'),
  async send({ env, db, config, target, now }, m) {
    const s = Settings.parse(config!.settings);
    const privateKey = config!.secrets.vapid_private_key;
    if (!s.vapid_public_key || !privateKey) throw new ChannelError('the push configuration has no VAPID key pair', false);
    const sub = target.subscriptionId === null ? null : await openSubscription(env, db, target.subscriptionId);
    if (!sub) throw new ChannelError('the push subscription was removed', false);
    const endpoint = guardUrl(env, sub.endpoint);
    const body = await encryptPushPayload(payloadOf(m), sub.p256dh, sub.auth);
    try {
      const res = await callProvider('the push service', endpoint, {
        method: 'POST',
        headers: {
          authorization: await vapidAuthorization(
            endpoint,
            s.subject,
            { publicKey: s.vapid_public_key, privateKey },
            Math.floor(now / 1000),
          ),
          'content-encoding': 'aes128gcm',
          'content-type': 'application/octet-stream',
          ttl: String(s.ttl_seconds),
          urgency: URGENCY[m.priority],
        },
        body,
      });
      return { status: res.status, providerMessageId: res.headers.get('location') };
    } catch (err) {
      if (err instanceof ChannelError && (err.status === 404 || err.status === 410)) await dropSubscription(db, target.subscriptionId!);
      throw err;
    }
  },
};
