import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { getDb } from '../db/client';
import { SECURITY_EVENT_TYPES, SEVERITIES, users } from '../db/schema';
import type { DomainEvent, Subscriber } from '../lib/events';
import { toIso } from '../lib/time';
import { deliverInApp } from './inbox';
import { sendSystemEmail } from './system-mail';

/** What a `security.alert` event carries (src/security/events.ts builds it from the stored row). */
const SecurityAlert = z.object({
  event_id: z.number().int(),
  at: z.number(),
  type: z.enum(SECURITY_EVENT_TYPES),
  severity: z.enum(SEVERITIES),
  user_id: z.number().int().nullable(),
  ip: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

/** What an `account.credentials_revoked` event carries (src/auth/sessions.ts builds it in SQL). */
const CredentialsRevoked = z.object({ reason: z.string().max(40), api_keys_revoked: z.number().int() });

const REVOKED_BECAUSE: Record<string, string> = {
  password_reset: 'your password was reset',
  logout_all: 'you signed out everywhere',
};

/**
 * Tells an owner their API keys were revoked: an in-app notification (deduplicated by the event's
 * id, so a redelivered event notifies once) and, when it was new and the service can send email,
 * one mail to their address. The mail is best effort, like all system mail.
 */
async function credentialsRevoked(env: Env, e: DomainEvent): Promise<void> {
  if (e.ownerId === null) return;
  const info = CredentialsRevoked.parse(e.data);
  const db = getDb(env.DB);
  const why = REVOKED_BECAUSE[info.reason] ?? info.reason;
  const title = `Your API keys were revoked (${info.api_keys_revoked})`;
  const body = `Every API key of your account was revoked because ${why}. Make new keys for the integrations that still need one, after checking that nobody else used your account.`;
  const stored = await deliverInApp(env, db, e.ownerId, {
    category: 'security',
    title,
    body,
    data: { reason: info.reason, api_keys_revoked: info.api_keys_revoked },
    priority: 'high',
    dedupeKey: e.id,
  });
  if (!stored) return;
  const owner = await db.select({ email: users.email }).from(users).where(eq(users.id, e.ownerId)).get();
  if (owner) await sendSystemEmail(env, db, owner.email, title, body);
}

/**
 * Alerts every admin of a severe security event: an in-app notification, pushed live to their
 * connections. The notification's dedupe key is the security event's id, so a redelivered event
 * notifies nobody twice; a failed delivery throws, and the event is offered again. Also tells an
 * owner when their API keys were revoked.
 */
export const notificationsSubscriber: Subscriber = {
  name: 'notifications',
  types: ['security.alert', 'account.credentials_revoked'],
  async handle(env: Env, e: DomainEvent): Promise<void> {
    if (e.type === 'account.credentials_revoked') return credentialsRevoked(env, e);
    const alert = SecurityAlert.parse(e.data);
    const db = getDb(env.DB);
    const admins = await db.select({ id: users.id }).from(users).where(eq(users.role, 'admin')).all();
    const view = {
      id: alert.event_id,
      at: toIso(alert.at),
      type: alert.type,
      severity: alert.severity,
      user_id: alert.user_id,
      ip: alert.ip,
      details: alert.details,
    };
    const title = `Security: ${alert.type.replace(/_/g, ' ')} (${alert.severity})`;
    const body =
      [alert.user_id ? `user ${alert.user_id}` : null, alert.ip ? `from ${alert.ip}` : null].filter(Boolean).join(' ') ||
      'see the event details';
    await Promise.all(
      admins.map((a) =>
        deliverInApp(env, db, a.id, {
          category: 'security',
          title,
          body,
          data: { event: view },
          priority: alert.severity === 'critical' ? 'urgent' : 'high',
          dedupeKey: `security_event:${alert.event_id}`,
        }),
      ),
    );
  },
};
