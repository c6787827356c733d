import { and, eq } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { notificationChannels, serviceEmailDomains, type NotificationChannel, type Role } from '../db/schema';
import { ApiError } from '../lib/errors';
import { enforceLimit } from '../lib/limits';
import { findUserByLogin } from '../auth';

/*
 * The service's own senders are not a relay. A configuration an administrator saved for everyone
 * (`global`) and the deployment's send_email binding send in the service's name and on its
 * reputation, so for a sender who is not an admin they reach only:
 *   - email: verified addresses of this service's users, and domains an administrator approved;
 *   - sms: nobody (users have no verified phone numbers here).
 * Writing anywhere else takes the sender's own provider configuration (`scope=mine`), which sends
 * on their account. Chat and webhook channels send to the configuration's own fixed URL, push and
 * in-app to users only, so none of them can be pointed at a stranger.
 *
 * Checked when a send is planned and again when each delivery is attempted: a sender who deletes
 * their own configuration after planning would otherwise fall back to the service's.
 */
const OPEN_ADDRESS: ReadonlySet<NotificationChannel> = new Set(['email', 'sms']);

/** Whose configuration a send with this name resolves to: the sender's own, or the service's. */
export async function configSource(db: DB, ownerId: number, channel: NotificationChannel, name: string): Promise<'own' | 'service'> {
  const own = await db
    .select({ id: notificationChannels.id })
    .from(notificationChannels)
    .where(
      and(
        eq(notificationChannels.scopeKey, `user:${ownerId}`),
        eq(notificationChannels.channel, channel),
        eq(notificationChannels.name, name),
      ),
    )
    .get();
  return own ? 'own' : 'service';
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/**
 * Null when the service's sender may write to `recipient` for this sender, else the reason.
 * Only meaningful for a send through the service's configuration.
 */
export async function serviceRecipientProblem(
  db: DB,
  sender: { role: Role },
  channel: NotificationChannel,
  recipient: string,
): Promise<string | null> {
  if (!OPEN_ADDRESS.has(channel) || sender.role === 'admin') return null;
  if (channel === 'sms') return "the service's SMS sender is for administrators; save your own sms configuration (scope=mine) to send SMS";
  const user = await findUserByLogin(db, recipient);
  if (user && user.email === recipient.trim().toLowerCase() && user.emailVerifiedAt !== null) return null;
  const approved = await db
    .select()
    .from(serviceEmailDomains)
    .where(eq(serviceEmailDomains.domain, domainOf(recipient)))
    .get();
  if (approved) return null;
  return "the service's email sender only writes to verified addresses of this service's users and to approved domains; save your own email configuration (scope=mine) to write to other addresses";
}

// ---- approved domains (admin) ------------------------------------------------------------------

export async function listServiceDomains(db: DB): Promise<string[]> {
  return (await db.select({ d: serviceEmailDomains.domain }).from(serviceEmailDomains).orderBy(serviceEmailDomains.domain).all()).map(
    (r) => r.d,
  );
}

/** Replaces the approved domains with `domains`, in one batch with its audit entry. */
export async function setServiceDomains(db: DB, meta: RequestMeta, domains: string[]): Promise<string[]> {
  const wanted = [...new Set(domains.map((d) => d.trim().toLowerCase()))];
  await db.batch([
    db.delete(serviceEmailDomains),
    ...wanted.map((domain) => db.insert(serviceEmailDomains).values({ domain, createdBy: meta.actorUserId })),
    auditInsert(db, meta, {
      action: 'notifications.service_domains',
      targetType: 'settings',
      targetId: 'service_email_domains',
      details: { domains: wanted },
    }),
  ]);
  return wanted.sort();
}

// ---- daily quotas -------------------------------------------------------------------------------

/**
 * Deliveries one user may start per channel in 24 hours, whatever configuration they use: a cap
 * on what one account (or a stolen credential) can make the service send. The window is the
 * rate limiter's fixed window, anchored at the first send after the previous one ended.
 */
export const DAILY_QUOTAS: Record<NotificationChannel, number> = {
  email: 200,
  sms: 50,
  push: 500,
  webhook: 1000,
  slack: 1000,
  teams: 1000,
  discord: 1000,
  in_app: 1000,
};
const DAY_SECONDS = 86_400;

export const quotaPolicy = (channel: NotificationChannel) => ({
  name: `notify-${channel.replace('_', '-')}-day`,
  limit: DAILY_QUOTAS[channel],
  windowSeconds: DAY_SECONDS,
});

/** Counts `n` deliveries against the sender's daily quota for the channel, all or none; 429 naming the policy when over. */
export async function chargeQuota(env: Env, userId: number, channel: NotificationChannel, n: number): Promise<void> {
  if (n <= 0) return;
  const policy = quotaPolicy(channel);
  await enforceLimit(env, `notify:${userId}:${channel}`, policy, {
    cost: n,
    message: `Daily ${channel} quota reached: at most ${policy.limit} deliveries per 24 hours per user (this send needs ${n})`,
  });
}

/** A refusal of the service's sender, listing each recipient's reason (nothing was stored). */
export const relayRefused = (issues: { path: (string | number)[]; message: string }[]) =>
  new ApiError('forbidden', "The service's sender cannot write to these recipients for you", { details: issues });
