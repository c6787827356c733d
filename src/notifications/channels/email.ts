import { z } from '@hono/zod-openapi';
import { callProvider, jsonField } from './http';
import { ChannelError, type Channel, type Message, type ResolvedConfig, type SendResult } from './types';

export const EMAIL_PROVIDERS = ['resend', 'sendgrid', 'postmark', 'cloudflare'] as const;
type Provider = (typeof EMAIL_PROVIDERS)[number];

const ADDRESS = /^[^\s@<>",;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;
/** `addr@example.com` or `Display Name <addr@example.com>`. */
const FROM =
  /^(?:([^<>"\r\n]{1,100}) <([^\s@<>",;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63})>|([^\s@<>",;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}))$/;

const Settings = z.strictObject({
  provider: z.enum(EMAIL_PROVIDERS),
  from: z.string().max(200).regex(FROM, 'an address, or "Name <address>"'),
  reply_to: z.string().max(254).regex(ADDRESS, 'an email address').optional(),
});
const Secrets = z.strictObject({ api_key: z.string().min(8).max(500).optional() });

function parseFrom(from: string): { email: string; name: string } | { email: string } {
  const m = FROM.exec(from);
  if (m?.[2]) return { email: m[2], name: m[1]!.trim() };
  return { email: from };
}

/** The binding's EmailAddress needs a name; a bare address is passed as a string. */
const cfFrom = (from: string) => {
  const p = parseFrom(from);
  return 'name' in p ? p : p.email;
};

type Mail = { from: string; replyTo: string | undefined; to: string; apiKey: string; m: Message };

/** Resend: POST /emails, Bearer key, JSON; the Idempotency-Key makes a repeated attempt send once. */
async function resend({ from, replyTo, to, apiKey, m }: Mail): Promise<SendResult> {
  const res = await callProvider('Resend', 'https://api.resend.com/emails', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      'content-type': 'application/json',
      'idempotency-key': m.idempotencyKey ?? `notification-${m.deliveryId}`,
    },
    body: JSON.stringify({ from, to: [to], subject: m.subject, text: m.body, ...(replyTo ? { reply_to: replyTo } : {}) }),
  });
  return { status: res.status, providerMessageId: jsonField(res.text, 'id') };
}

/** SendGrid v3 Mail Send: personalizations + content; answers 202 with the id in X-Message-Id. */
async function sendgrid({ from, replyTo, to, apiKey, m }: Mail): Promise<SendResult> {
  const res = await callProvider('SendGrid', 'https://api.sendgrid.com/v3/mail/send', {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      personalizations: [{ to: [{ email: to }] }],
      from: parseFrom(from),
      ...(replyTo ? { reply_to: { email: replyTo } } : {}),
      subject: m.subject,
      content: [{ type: 'text/plain', value: m.body }],
    }),
  });
  return { status: res.status, providerMessageId: res.headers.get('x-message-id') };
}

/** Postmark: POST /email with the server token header; 422 answers carry Postmark's ErrorCode. */
async function postmark({ from, replyTo, to, apiKey, m }: Mail): Promise<SendResult> {
  const res = await callProvider('Postmark', 'https://api.postmarkapp.com/email', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', 'x-postmark-server-token': apiKey },
    body: JSON.stringify({
      From: from,
      To: to,
      Subject: m.subject,
      TextBody: m.body,
      ...(replyTo ? { ReplyTo: replyTo } : {}),
      MessageStream: 'outbound',
    }),
  });
  return { status: res.status, providerMessageId: jsonField(res.text, 'MessageID') };
}

/**
 * Cloudflare Email Service through the `send_email` binding. A thrown error carries no status;
 * the binding refuses bad addresses synchronously, so an error is treated as not retryable
 * unless it looks transient.
 */
async function cloudflare(env: Env, { from, replyTo, to, m }: Omit<Mail, 'apiKey'>): Promise<SendResult> {
  try {
    const sent = await env.SEND_EMAIL.send({ from: cfFrom(from), to, subject: m.subject, text: m.body, ...(replyTo ? { replyTo } : {}) });
    return { status: null, providerMessageId: sent.messageId };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new ChannelError(
      `the send_email binding refused the message: ${message}`,
      /timeout|temporar|unavailable|internal/i.test(message),
    );
  }
}

export const emailChannel: Channel = {
  name: 'email',
  needsConfig: true,
  recipientIsConfig: false,
  settings: Settings,
  secrets: Secrets as z.ZodType<Record<string, string>>,
  checkConfig(env, settings, secrets) {
    const s = Settings.parse(settings);
    if (s.provider === 'cloudflare')
      return 'SEND_EMAIL' in env ? null : 'the send_email binding (SEND_EMAIL) is not configured in this deployment';
    return secrets.api_key ? null : `provider ${s.provider} needs secrets.api_key`;
  },
  checkRecipient: (r) => (r.length <= 254 && ADDRESS.test(r) ? null : 'not an email address'),
  // Every provider here takes an empty subject, but a mail without one reads as spam or a mistake.
  checkMessage: (m) => (m.subject.trim() ? null : { field: 'subject', message: 'an email needs a subject that is not blank' }),
  fallbackConfig(env): ResolvedConfig | null {
    // Without a saved configuration, the deployment's own binding sends (if it has one).
    if (!('SEND_EMAIL' in env) || !env.NOTIFICATIONS_EMAIL_FROM) return null;
    return { name: 'default', settings: { provider: 'cloudflare', from: env.NOTIFICATIONS_EMAIL_FROM }, secrets: {} };
  },
  async send({ env, config, target }, m) {
    const s = Settings.parse(config!.settings);
    const mail = { from: s.from, replyTo: s.reply_to, to: target.recipient, m };
    const provider: Provider = s.provider;
    if (provider === 'cloudflare') return cloudflare(env, mail);
    const apiKey = config!.secrets.api_key;
    if (!apiKey) throw new ChannelError(`the ${provider} configuration has no API key`, false);
    return { resend, sendgrid, postmark }[provider]({ ...mail, apiKey });
  },
};
