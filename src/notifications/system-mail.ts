import type { DB } from '../db/client';
import { log } from '../lib/log';
import { CHANNELS } from './channels';
import { ChannelError } from './channels/types';
import { resolveConfig } from './config';

/**
 * Email the service itself sends to one of its users (a password reset link), through the
 * service-wide email configuration: the admins' global `email/default` channel, else the
 * deployment's send_email binding. Unlike a notification it is not stored and not retried: its
 * body carries a live credential, and a delivery row would keep that credential in D1 in plain
 * text. One attempt; returns whether the provider accepted it, and logs why not.
 */
export async function sendSystemEmail(env: Env, db: DB, to: string, subject: string, body: string): Promise<boolean> {
  // Owner 0 is nobody, so only the global configuration or the deployment's binding resolves.
  const config = await resolveConfig(env, db, 0, 'email', 'default');
  if (!config) {
    log(env.LOG_LEVEL, 'warn', 'system email not sent: no service-wide email configuration', { subject });
    return false;
  }
  try {
    await CHANNELS.email.send(
      { env, db, config, target: { recipient: to, recipientUserId: null, subscriptionId: null }, now: Date.now() },
      { deliveryId: 0, idempotencyKey: `system-${crypto.randomUUID()}`, subject, body, priority: 'high', data: {} },
    );
    return true;
  } catch (err) {
    log(env.LOG_LEVEL, 'error', 'system email not sent', { subject, error: err instanceof ChannelError ? err.message : String(err) });
    return false;
  }
}

/** Whether system email has anything to send with: a global email configuration or the deployment's binding. */
export async function systemEmailConfigured(env: Env, db: DB): Promise<boolean> {
  return (await resolveConfig(env, db, 0, 'email', 'default')) !== null;
}

/** The system mailer as src/auth takes it (src/app.ts passes it in). */
export const systemMail = { send: sendSystemEmail, configured: systemEmailConfigured };
