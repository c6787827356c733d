import { and, eq } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import type { DB } from '../db/client';
import { automations } from '../db/schema';
import { constantTimeEqual, randomToken } from '../lib/crypto';
import type { AppEnv } from '../lib/context';
import { ApiError } from '../lib/errors';
import { openFor, sealFor } from '../lib/encryption';
import type { AutomationRow } from './queries';

/*
 * Inbound webhooks. The caller signs `<timestamp>.<raw body>` with HMAC-SHA256 under the
 * automation's secret and sends `X-Automation-Timestamp` (unix seconds) and
 * `X-Automation-Signature: sha256=<hex>`. The signature is checked over the raw bytes before the
 * body is parsed; a timestamp more than five minutes off is refused, and a replay within that
 * window finds the execution the first delivery made (the event id is the signature).
 */
export const WEBHOOK_SKEW_S = 300;

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');

export async function webhookSignature(secret: string, timestamp: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `sha256=${hex(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${timestamp}.${body}`)))}`;
}

/** Makes and seals a new secret for the automation; returns the plaintext to show once. */
export async function issueWebhookSecret(env: Env, db: DB, automationId: number): Promise<string> {
  const secret = `whsec_${randomToken(32)}`;
  await db
    .update(automations)
    .set({ webhookSecret: await sealFor(env, 'automations', automationId, 'webhook_secret', secret) })
    .where(eq(automations.id, automationId));
  return secret;
}

const refused = () => new ApiError('unauthorized', 'Missing or invalid webhook signature');

/**
 * Route middleware for the public webhook route: authenticates by signature. An unknown
 * automation and a bad signature answer alike, so ids reveal nothing.
 */
export function verifyWebhook(): MiddlewareHandler<AppEnv> {
  return async function verifyWebhook(c, next) {
    const m = /^automation_([1-9][0-9]{0,14})$/.exec(c.req.param('automation_id') ?? '');
    const ts = c.req.header('x-automation-timestamp') ?? '';
    const sig = c.req.header('x-automation-signature') ?? '';
    if (!m || !/^\d{1,12}$/.test(ts) || !/^sha256=[0-9a-f]{64}$/.test(sig)) throw refused();
    if (Math.abs(Date.now() / 1000 - Number(ts)) > WEBHOOK_SKEW_S) throw refused();
    const row: AutomationRow | undefined = await c.var.db
      .select()
      .from(automations)
      .where(and(eq(automations.id, Number(m[1])), eq(automations.triggerType, 'webhook')))
      .get();
    if (!row?.webhookSecret) throw refused();
    const secret = await openFor(c.env, 'automations', row.id, 'webhook_secret', row.webhookSecret);
    // Hono's cached copy: the body was already read once (src/lib/middleware.ts checks it as it arrives).
    const body = await c.req.text();
    const expected = await webhookSignature(secret, ts, body);
    if (!constantTimeEqual(new TextEncoder().encode(expected), new TextEncoder().encode(sig))) throw refused();
    await next();
  };
}
