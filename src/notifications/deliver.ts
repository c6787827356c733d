import { and, eq, notInArray } from 'drizzle-orm';
import type { DB, Stmt } from '../db/client';
import { notificationAttempts, notificationDeliveries } from '../db/schema';
import { CHANNELS, ChannelError } from './channels';
import { resolveConfig } from './config';
import { optedOut } from './preferences';
import { effectInsert, planRetry, type RetryPlan, type TaskRow } from '../tasks';
import { getUser } from '../auth';
import { configSource, serviceRecipientProblem } from './relay';

type Delivery = typeof notificationDeliveries.$inferSelect;
export type AttemptVerdict =
  | { kind: 'done'; result: Record<string, unknown>; statements: Stmt[] }
  | { kind: 'failed'; message: string; retryable: boolean; retryAfterMs?: number };

const FINISHED = ['sent', 'skipped', 'failed'] as const;
const open = (d: Delivery) => and(eq(notificationDeliveries.id, d.id), notInArray(notificationDeliveries.status, [...FINISHED]));

/**
 * One attempt at a delivery, run by the `notification_delivery` task (the task layer claims the
 * attempt with a compare-and-set, so two copies of a queue message never run it at once).
 *
 * Exactly-once where the platform allows it: a delivery already `sent` is not sent again, and
 * the `sent` row, its attempt row and the task's effect row are written in the same D1 batch as
 * the task's success. A provider call cannot join that batch, so a crash between the call and the
 * batch leaves a window in which the next attempt sends again; providers with an idempotency key
 * (Resend, the Standard Webhooks id, the inbox's dedupe key) make that repeat harmless.
 */
export async function attemptDelivery(
  env: Env,
  db: DB,
  task: TaskRow,
  deliveryId: number,
  now: number,
  deadline: number,
): Promise<AttemptVerdict> {
  const d = await db.select().from(notificationDeliveries).where(eq(notificationDeliveries.id, deliveryId)).get();
  // Only the delivery's own task may send it (a hand-made task naming it is refused).
  if (!d || d.ownerId !== task.ownerId || task.idempotencyKey !== `notification:${d.id}`)
    return { kind: 'failed', message: 'this task does not belong to that notification', retryable: false };
  if (d.status === 'sent' || d.status === 'skipped')
    return { kind: 'done', result: { delivery_id: d.id, status: d.status }, statements: [] };
  if (d.status === 'failed' || d.status === 'cancelled')
    return { kind: 'failed', message: d.error ?? `the notification was ${d.status}`, retryable: false };

  const attempt = task.attempts;
  // Preferences are read again at send time: a scheduled send respects a later opt-out.
  if (d.recipientUserId !== null && (await optedOut(db, d.recipientUserId, d.channel))) {
    return {
      kind: 'done',
      result: { delivery_id: d.id, status: 'skipped', reason: 'opted_out' },
      statements: [
        db
          .insert(notificationAttempts)
          .values({ deliveryId: d.id, attempt, status: 'skipped', error: 'the recipient opted out of this channel', at: now })
          .onConflictDoNothing(),
        db
          .update(notificationDeliveries)
          .set({ status: 'skipped', skipReason: 'opted_out', attempts: attempt, finishedAt: now })
          .where(open(d)),
      ],
    };
  }

  const channel = CHANNELS[d.channel];
  const started = Date.now();
  try {
    const tooMuch = channel.checkMessage?.({ subject: d.subject, body: d.body });
    if (tooMuch) throw new ChannelError(tooMuch.message, false);
    const config = channel.needsConfig ? await resolveConfig(env, db, d.ownerId, d.channel, d.configName) : null;
    if (channel.needsConfig && !config)
      throw new ChannelError(`the ${d.channel} configuration "${d.configName}" was removed or disabled`, false);
    if (channel.needsConfig && !channel.recipientIsConfig && (await configSource(db, d.ownerId, d.channel, d.configName)) === 'service') {
      // Planned with the sender's own configuration, which is gone now: the service's must not stand in.
      const owner = await getUser(db, d.ownerId);
      const problem = owner ? await serviceRecipientProblem(db, owner, d.channel, d.recipient) : 'the sender no longer exists';
      if (problem) throw new ChannelError(problem, false);
    }
    const sent = await channel.send(
      { env, db, config, target: { recipient: d.recipient, recipientUserId: d.recipientUserId, subscriptionId: d.subscriptionId }, now },
      { deliveryId: d.id, subject: d.subject, body: d.body, priority: d.priority, data: d.data ?? {} },
    );
    const latencyMs = Date.now() - started;
    const detail = {
      delivery_id: d.id,
      status: 'sent',
      provider_status: sent.status,
      provider_message_id: sent.providerMessageId,
      latency_ms: latencyMs,
    };
    return {
      kind: 'done',
      result: detail,
      statements: [
        db
          .insert(notificationAttempts)
          .values({ deliveryId: d.id, attempt, status: 'sent', responseCode: sent.status, latencyMs, at: now })
          .onConflictDoNothing(),
        db
          .update(notificationDeliveries)
          .set({
            status: 'sent',
            error: null,
            providerStatus: sent.status,
            providerMessageId: sent.providerMessageId,
            attempts: attempt,
            finishedAt: Date.now(),
          })
          .where(open(d)),
        effectInsert(db, task.id, { effect: 'notification_sent', detail }),
      ],
    };
  } catch (err) {
    const latencyMs = Date.now() - started;
    // Anything that is not a provider's verdict (D1, decryption) may pass: retry it.
    const e = err instanceof ChannelError ? err : new ChannelError(err instanceof Error ? err.message : String(err), true);
    // The same plan the task layer makes from this verdict: a provider's wait is honoured to the
    // second, or, when it cannot be within the deadline or the queue's longest delay, ends the delivery.
    const plan = e.retryable ? planRetry(attempt, Date.now(), deadline, e.retryAfterMs) : null;
    const final = !plan?.retry || attempt > task.maxRetries;
    const error = `${e.message.slice(0, 900)}${adviceNote(plan, final)}`;
    await db.batch([
      db
        .insert(notificationAttempts)
        .values({
          deliveryId: d.id,
          attempt,
          status: 'failed',
          retryable: e.retryable,
          responseCode: e.status,
          latencyMs,
          error,
          at: now,
        })
        .onConflictDoNothing(),
      db
        .update(notificationDeliveries)
        .set({
          status: final ? 'failed' : 'retrying',
          error,
          providerStatus: e.status,
          attempts: attempt,
          finishedAt: final ? Date.now() : null,
        })
        .where(open(d)),
    ]);
    return {
      kind: 'failed',
      message: e.message,
      retryable: e.retryable,
      ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
    };
  }
}

/** What the history says about a provider's requested wait: when the next attempt is due, or why there is none. */
function adviceNote(plan: RetryPlan | null, final: boolean): string {
  if (!plan || plan.advisedSeconds === undefined) return '';
  if (plan.retry && !final) return ` (retry at ${new Date(plan.at).toISOString()}, provider asked for ${plan.advisedSeconds} s)`;
  return plan.retry ? ` (provider asked for ${plan.advisedSeconds} s; no attempts left)` : ` (${plan.reason})`;
}
