import { z } from '@hono/zod-openapi';
import { callProvider, jsonField } from './http';
import { ChannelError, type Channel } from './types';

const E164 = /^\+[1-9]\d{6,14}$/;

const Settings = z.strictObject({
  provider: z.literal('twilio').default('twilio'),
  account_sid: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'a Twilio Account SID (AC + 32 hex digits)'),
  from: z.string().regex(E164, 'an E.164 number, e.g. +15005550006').optional(),
  messaging_service_sid: z
    .string()
    .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID (MG + 32 hex digits)')
    .optional(),
});
const Secrets = z.strictObject({ auth_token: z.string().min(16).max(200) });

/**
 * SMS through Twilio's Programmable Messaging REST API: a form-encoded POST to
 * /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth (Account SID : Auth
 * Token); 201 returns the Message resource, whose `sid` is kept. SMS has no subject line, so the
 * message body alone is sent. Twilio has no idempotency key for this endpoint: see docs/api/notifications.md on
 * the window in which a retry could send twice.
 */
/**
 * Twilio refuses a body over 1,600 characters (error 21617) and does not split it further.
 * Counted in UTF-16 code units, so an emoji counts as two: never more than Twilio counts.
 */
export const SMS_MAX_CHARS = 1600;

export const smsChannel: Channel = {
  name: 'sms',
  needsConfig: true,
  recipientIsConfig: false,
  settings: Settings,
  secrets: Secrets,
  checkConfig(_env, settings) {
    const s = Settings.parse(settings);
    if (!s.from === !s.messaging_service_sid) return 'set exactly one of from and messaging_service_sid';
    return null;
  },
  checkRecipient: (r) => (E164.test(r) ? null : 'not an E.164 phone number (e.g. +14155550100)'),
  checkMessage: ({ body }) =>
    body.length > SMS_MAX_CHARS
      ? {
          field: 'message',
          message: `an SMS may hold at most ${SMS_MAX_CHARS} characters (Twilio's limit, error 21617); this message has ${body.length}`,
        }
      : null,
  async send({ config, target }, m) {
    const s = Settings.parse(config!.settings);
    const token = config!.secrets.auth_token;
    if (!token) throw new ChannelError('the Twilio configuration has no auth token', false);
    const form = new URLSearchParams({ To: target.recipient, Body: m.body });
    if (s.messaging_service_sid) form.set('MessagingServiceSid', s.messaging_service_sid);
    else form.set('From', s.from!);
    const res = await callProvider('Twilio', `https://api.twilio.com/2010-04-01/Accounts/${s.account_sid}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa(`${s.account_sid}:${token}`)}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: form.toString(),
    });
    return { status: res.status, providerMessageId: jsonField(res.text, 'sid') };
  },
};
