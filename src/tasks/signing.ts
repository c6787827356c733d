import { eq } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { webhookSecrets } from '../db/schema';
import { openFor, sealFor } from '../lib/encryption';

/*
 * Webhook signatures follow Standard Webhooks (standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, keyed by the user's `whsec_<base64>` secret. The id is the task's,
 * identical on every retry, so a receiver that saw it already can drop the repeat.
 */
const b64 = (bytes: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

function newSecret(): string {
  return `whsec_${b64(crypto.getRandomValues(new Uint8Array(24)))}`;
}

// Stored encrypted, bound to the user's row: a value copied to another user's row does not open.
const seal = (env: Env, userId: number, secret: string) => sealFor(env, 'webhook_secrets', userId, 'secret', secret);

/** The user's signing secret, created on first use. */
export async function signingSecret(env: Env, db: DB, userId: number): Promise<{ secret: string; createdAt: number }> {
  await db
    .insert(webhookSecrets)
    .values({ userId, secret: await seal(env, userId, newSecret()) })
    .onConflictDoNothing();
  const row = await db.select().from(webhookSecrets).where(eq(webhookSecrets.userId, userId)).get();
  if (!row) throw new Error('webhook secret vanished');
  return { secret: await openFor(env, 'webhook_secrets', userId, 'secret', row.secret), createdAt: row.createdAt };
}

/** Replaces the user's secret; deliveries signed after this use the new one. */
export async function rotateSigningSecret(
  env: Env,
  db: DB,
  meta: RequestMeta,
  userId: number,
): Promise<{ secret: string; createdAt: number }> {
  const secret = newSecret();
  const stored = await seal(env, userId, secret);
  const now = Date.now();
  await db.batch([
    db
      .insert(webhookSecrets)
      .values({ userId, secret: stored, createdAt: now })
      .onConflictDoUpdate({ target: webhookSecrets.userId, set: { secret: stored, createdAt: now } }),
    auditInsert(db, meta, { action: 'webhook_secret.rotate', targetType: 'user', targetId: userId }),
  ]);
  return { secret, createdAt: now };
}

/** `v1,<signature>` for one delivery. */
export async function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, '')), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`));
  return `v1,${b64(mac)}`;
}
