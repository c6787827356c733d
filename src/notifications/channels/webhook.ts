import { z } from '@hono/zod-openapi';
import { callProvider, guardUrl, jsonField } from './http';
import { ChannelError, type Channel } from './types';
import { signWebhook } from '../../tasks';

const SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

const Settings = z.strictObject({
  url: z.string().min(1).max(2048),
  /** While set and in the future, deliveries are signed with the previous secret too. */
  previous_secret_expires_at: z.number().int().optional(),
});
const Secrets = z.strictObject({
  signing_secret: z.string().regex(SECRET, 'a Standard Webhooks secret: whsec_ + base64 of 24 to 64 bytes').optional(),
  previous_signing_secret: z.string().regex(SECRET).optional(),
});

export const newSigningSecret = () => `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

export const CONFIG_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * A generic webhook signed the Standard Webhooks way (standardwebhooks.com): `webhook-id`
 * (`notif_<delivery id>`, the same on every attempt so the receiver can drop repeats),
 * `webhook-timestamp` (this attempt, Unix seconds) and `webhook-signature`, which during a
 * rotation carries two space-separated `v1,` signatures — new secret first, then the previous
 * one until it expires — exactly as the specification's rotation section describes.
 */
export const webhookChannel: Channel = {
  name: 'webhook',
  needsConfig: true,
  recipientIsConfig: true,
  settings: Settings,
  secrets: Secrets as z.ZodType<Record<string, string>>,
  checkConfig(env, settings, secrets) {
    const s = Settings.parse(settings);
    try {
      guardUrl(env, s.url);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return secrets.signing_secret ? null : 'a signing secret is needed';
  },
  async prepare(settings, secrets) {
    if (secrets.signing_secret) return { settings, secrets };
    const signing_secret = newSigningSecret();
    return { settings, secrets: { ...secrets, signing_secret }, reveal: { signing_secret } };
  },
  checkRecipient: (r) => (CONFIG_NAME.test(r) ? null : 'the name of one of your webhook configurations'),
  async send({ env, config, now }, m) {
    const s = Settings.parse(config!.settings);
    const secret = config!.secrets.signing_secret;
    if (!secret) throw new ChannelError('the webhook configuration has no signing secret', false);
    const url = guardUrl(env, s.url);
    const id = `notif_${m.deliveryId}`;
    const timestamp = Math.floor(now / 1000);
    const body = JSON.stringify({
      type: 'notification',
      timestamp: new Date(now).toISOString(),
      data: { id: m.deliveryId, subject: m.subject, message: m.body, priority: m.priority, data: m.data },
    });
    const signatures = [await signWebhook(secret, id, timestamp, body)];
    const previous = config!.secrets.previous_signing_secret;
    if (previous && (s.previous_secret_expires_at ?? 0) > now) signatures.push(await signWebhook(previous, id, timestamp, body));
    const res = await callProvider('the webhook receiver', url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'document-workflow-chain-notifications/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatures.join(' '),
      },
      body,
    });
    return { status: res.status, providerMessageId: jsonField(res.text, 'id') };
  },
};
