import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { getDb } from '../db/client';
import { SECURITY_EVENT_TYPES, SEVERITIES, users } from '../db/schema';
import type { DomainEvent, Subscriber } from '../lib/events';
import { toIso } from '../lib/time';
import { deliverInApp } from './inbox';

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

/**
 * Alerts every admin of a severe security event: an in-app notification, pushed live to their
 * connections. The notification's dedupe key is the security event's id, so a redelivered event
 * notifies nobody twice; a failed delivery throws, and the event is offered again.
 */
export const notificationsSubscriber: Subscriber = {
  name: 'notifications',
  types: ['security.alert'],
  async handle(env: Env, e: DomainEvent): Promise<void> {
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
