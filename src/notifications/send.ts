import { and, eq, inArray } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import type { Role } from '../db/schema';
import { type DB, runBatch } from '../db/client';
import { notificationDeliveries, type NotificationChannel, type TaskPriority } from '../db/schema';
import { ApiError } from '../lib/errors';
import { CHANNELS } from './channels';
import type { Priority } from './channels/types';
import { resolveConfig } from './config';
import { optedOut } from './preferences';
import { listSubscriptions } from './subscriptions';
import { getTemplate, invalid, renderTemplate, type Issue } from './templates';
import { chargeQuota, configSource, relayRefused, serviceRecipientProblem } from './relay';
import { submitTasks } from '../tasks';
import { findUserByLogin, getUser } from '../auth';

export type SendInput = {
  channel: NotificationChannel;
  recipients: { recipient: string; variables?: Record<string, string> | undefined }[];
  subject?: string | undefined;
  message?: string | undefined;
  template_id?: number | undefined;
  variables?: Record<string, string> | undefined;
  priority: Priority;
  send_at?: string | undefined;
  data?: Record<string, unknown> | undefined;
  config?: string | undefined;
};

export type Sender = { userId: number; role: Role };

/** Notification priority → task priority: `urgent` jumps the task queue like `critical`. */
const TASK_PRIORITY: Record<Priority, TaskPriority> = { low: 'low', normal: 'normal', high: 'high', urgent: 'critical' };
/** Attempts after the first; with the task layer's backoff they span about half a minute. */
export const DELIVERY_RETRIES = 4;
/** How far ahead send_at may be: the task layer's longest delay. */
const MAX_SCHEDULE_MS = 7 * 86_400_000;

type Planned = {
  recipient: string;
  recipientUserId: number | null;
  subscriptionId: number | null;
  configName: string;
  subject: string;
  body: string;
  skipReason: string | null;
};

/** A user named by id, username or email; in-app and push go to users only. */
async function userOf(db: DB, recipient: string) {
  return /^\d{1,12}$/.test(recipient) ? getUser(db, Number(recipient)) : findUserByLogin(db, recipient);
}

/**
 * Validates a send (one recipient or many) and plans one delivery per recipient — per push
 * subscription for push. All-or-nothing: every problem is reported at once and nothing is
 * stored unless every recipient is valid.
 */
async function plan(env: Env, db: DB, sender: Sender, input: SendInput, path: (i: number) => (string | number)[]): Promise<Planned[]> {
  const channel = CHANNELS[input.channel];
  const issues: Issue[] = [];
  const template = input.template_id !== undefined ? await getTemplate(db, sender.userId, input.template_id).catch(() => null) : null;
  if (input.template_id !== undefined && !template) issues.push({ path: ['template_id'], message: 'no such template' });
  if (template && template.channel !== input.channel)
    issues.push({ path: ['template_id'], message: `the template is for ${template.channel}, not ${input.channel}` });
  if (!template && input.template_id === undefined && input.message === undefined)
    issues.push({ path: ['message'], message: 'give a message or a template_id' });
  if (template && (input.message !== undefined || input.subject !== undefined))
    issues.push({ path: ['message'], message: 'give either a template_id or subject/message, not both' });
  if (!template && input.template_id === undefined && input.variables)
    issues.push({ path: ['variables'], message: 'variables need a template_id' });
  if (issues.length) throw invalid(issues);

  const seen = new Set<string>();
  // A bulk send names one configuration many times: resolve (and decrypt) it once.
  const configured = new Map<string, boolean>();
  const sources = new Map<string, 'own' | 'service'>();
  const refused: Issue[] = [];
  const planned: Planned[] = [];
  for (const [i, r] of input.recipients.entries()) {
    const at = path(i);
    const bad = channel.checkRecipient(r.recipient);
    if (bad) {
      issues.push({ path: at, message: bad });
      continue;
    }
    if (seen.has(r.recipient)) issues.push({ path: at, message: 'listed twice' });
    seen.add(r.recipient);

    let content = { subject: input.subject ?? '', body: input.message ?? '' };
    if (template) {
      const rendered = renderTemplate(
        template,
        { ...input.variables, ...r.variables },
        at[0] === 'recipients' ? [...at, 'variables'] : ['variables'],
      );
      if ('issues' in rendered) {
        issues.push(...rendered.issues);
        continue;
      }
      content = rendered;
    }
    // The provider's limits apply to what is sent, so to a template's output, recipient by recipient.
    const tooMuch = channel.checkMessage?.(content);
    if (tooMuch) {
      const where = template ? (at[0] === 'recipients' ? at : ['template_id']) : [tooMuch.field];
      const message = template ? `${tooMuch.message} once the template is filled in` : tooMuch.message;
      if (!issues.some((i) => i.message === message && i.path.join() === where.join())) issues.push({ path: where, message });
      continue;
    }

    let recipientUserId: number | null = null;
    if (input.channel === 'in_app' || input.channel === 'push') {
      const user = await userOf(db, r.recipient);
      if (!user) {
        issues.push({ path: at, message: 'no such user' });
        continue;
      }
      // Only admins reach other users' inboxes and devices; anyone may notify themselves.
      if (user.id !== sender.userId && sender.role !== 'admin')
        throw new ApiError('forbidden', 'Only admins may send in-app and push notifications to other users');
      recipientUserId = user.id;
    } else if (input.channel === 'email') {
      // A registered user's address: their opt-out applies. Other addresses have no preferences.
      recipientUserId = (await findUserByLogin(db, r.recipient))?.id ?? null;
    }

    const configName = channel.recipientIsConfig ? r.recipient : (input.config ?? 'default');
    if (channel.needsConfig && !configured.has(configName))
      configured.set(configName, (await resolveConfig(env, db, sender.userId, input.channel, configName)) !== null);
    if (channel.needsConfig && !configured.get(configName)) {
      issues.push({
        path: channel.recipientIsConfig ? at : ['config'],
        message: `no enabled ${input.channel} configuration named "${configName}" (yours or global)`,
      });
      continue;
    }
    if (channel.needsConfig && !channel.recipientIsConfig) {
      if (!sources.has(configName)) sources.set(configName, await configSource(db, sender.userId, input.channel, configName));
      const problem = sources.get(configName) === 'service' ? await serviceRecipientProblem(db, sender, input.channel, r.recipient) : null;
      if (problem) {
        refused.push({ path: at, message: problem });
        continue;
      }
    }
    const skipReason = recipientUserId !== null && (await optedOut(db, recipientUserId, input.channel)) ? 'opted_out' : null;
    const base = { recipient: r.recipient, recipientUserId, configName, ...content, skipReason };
    if (input.channel === 'push' && !skipReason) {
      const subs = await listSubscriptions(db, recipientUserId!);
      if (!subs.length) issues.push({ path: at, message: 'this user has no push subscriptions' });
      for (const s of subs) planned.push({ ...base, subscriptionId: s.id });
    } else planned.push({ ...base, subscriptionId: null });
  }
  if (issues.length) throw invalid(issues);
  if (refused.length) throw relayRefused(refused);
  return planned;
}

function sendAtOf(raw: string | undefined, now: number): number {
  if (raw === undefined) return now;
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw invalid([{ path: ['send_at'], message: 'an ISO 8601 date-time' }]);
  if (at < now - 60_000) throw invalid([{ path: ['send_at'], message: 'in the past' }]);
  if (at > now + MAX_SCHEDULE_MS) throw invalid([{ path: ['send_at'], message: 'at most 7 days ahead' }]);
  return Math.max(at, now);
}

type DeliveryRow = typeof notificationDeliveries.$inferSelect;

/**
 * Hands queued deliveries to the task layer, one `notification_delivery` task each (idempotency key
 * `notification:<id>`, so handing one over twice makes one task). If the task layer refuses (its
 * per-user backlog is full), the deliveries are removed again and the error stands.
 */
async function queueDeliveries(env: Env, db: DB, meta: RequestMeta, ownerId: number, toSend: DeliveryRow[], now: number) {
  if (!toSend.length) return;
  let submitted;
  try {
    submitted = await submitTasks(
      env,
      db,
      meta,
      ownerId,
      toSend.map((r) => ({
        name: `notification ${r.id} (${r.channel})`,
        task_type: 'notification_delivery' as const,
        priority: TASK_PRIORITY[r.priority],
        payload: { delivery_id: r.id },
        delay_seconds: Math.max(0, Math.ceil((r.sendAt - now) / 1000)),
        timeout_seconds: 3600,
        max_retries: DELIVERY_RETRIES,
        idempotency_key: `notification:${r.id}`,
      })),
    );
  } catch (err) {
    await db.delete(notificationDeliveries).where(
      inArray(
        notificationDeliveries.id,
        toSend.map((r) => r.id),
      ),
    );
    throw err;
  }
  const taskOf = new Map(submitted.map((s, i) => [toSend[i]!.id, s.task.id]));
  for (const r of toSend) r.taskId = taskOf.get(r.id) ?? null;
  await runBatch(
    db,
    toSend.map((r) => db.update(notificationDeliveries).set({ taskId: r.taskId }).where(eq(notificationDeliveries.id, r.id))),
  );
}

/**
 * A send made once per key (a workflow's notify node: the run, node and attempt): the key is the
 * deliveries' batch id, so asking again finds the deliveries the first ask stored — and hands
 * over any it stored but could not yet hand to the task layer — instead of sending again.
 */
export async function sendNotificationsOnce(env: Env, db: DB, meta: RequestMeta, sender: Sender, input: SendInput, key: string) {
  const prior = await db
    .select()
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.ownerId, sender.userId), eq(notificationDeliveries.batchId, key)))
    .all();
  if (!prior.length) return sendNotifications(env, db, meta, sender, input, (i) => ['recipients', i], { batchId: key });
  await queueDeliveries(
    env,
    db,
    meta,
    sender.userId,
    prior.filter((r) => r.status === 'queued' && r.taskId === null),
    Date.now(),
  );
  return { batchId: key, rows: prior };
}

/**
 * Stores the deliveries, then hands each to the background task layer (one
 * `notification_delivery` task each, idempotency key `notification:<id>`, delayed until
 * send_at). Opted-out recipients are stored as `skipped` and get no task. If the task layer
 * refuses (its per-user backlog is full), the deliveries are removed again and the error stands.
 */
export async function sendNotifications(
  env: Env,
  db: DB,
  meta: RequestMeta,
  sender: Sender,
  input: SendInput,
  path: (i: number) => (string | number)[],
  options: { batchId?: string } = {},
) {
  const now = Date.now();
  const sendAt = sendAtOf(input.send_at, now);
  const planned = await plan(env, db, sender, input, path);
  await chargeQuota(env, sender.userId, input.channel, planned.filter((p) => !p.skipReason).length);
  const batchId = options.batchId ?? crypto.randomUUID();
  const inserts = planned.map((p) =>
    db
      .insert(notificationDeliveries)
      .values({
        ownerId: sender.userId,
        batchId,
        channel: input.channel,
        configName: p.configName,
        recipient: p.recipient,
        recipientUserId: p.recipientUserId,
        subscriptionId: p.subscriptionId,
        templateId: input.template_id ?? null,
        subject: p.subject,
        body: p.body,
        data: input.data ?? null,
        priority: input.priority,
        sendAt,
        status: p.skipReason ? 'skipped' : 'queued',
        skipReason: p.skipReason,
        finishedAt: p.skipReason ? now : null,
        createdAt: now,
      })
      .returning(),
  );
  const rows = (await runBatch(db, inserts)).map((r) => (r as (typeof notificationDeliveries.$inferSelect)[])[0]!);
  await queueDeliveries(
    env,
    db,
    meta,
    sender.userId,
    rows.filter((r) => r.status === 'queued'),
    now,
  );
  return { batchId, rows };
}
