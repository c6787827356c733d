import { beforeAll, describe, expect, it } from 'vitest';
import { registerAndLogin, unique } from '../helpers';
import { planRetry, QUEUE_MAX_DELAY_SECONDS } from '../../src/tasks';
import { deliver, getTask } from './tasks-helpers';
import { getDelivery, providerLog, saveChannel, scriptProvider, sendOne } from './notif-helpers';

/*
 * A provider's requested wait (Retry-After in seconds or as an HTTP date, Discord's JSON
 * retry_after) travels from the channel through the delivery verdict and the task error to the
 * queue's retry delay. Each send is scheduled an hour ahead, so the dispatcher holds its task and
 * only the queue message handed over here runs it: the delay given to `message.retry()` is read
 * off that one message, and no other request can reach the provider meanwhile.
 */
let token: string;
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

beforeAll(async () => {
  token = (await registerAndLogin(unique('nretry'))).token;
  await saveChannel(token, 'email', 'default', {
    settings: { provider: 'resend', from: 'noreply@acme.example' },
    secrets: { api_key: 're_advice_0123456789' },
  });
  await saveChannel(token, 'sms', 'default', {
    settings: { account_sid: `AC${'cd'.repeat(16)}`, from: '+15005550006' },
    secrets: { auth_token: 'twilio-advice-token-123456' },
  });
});

/** Sends one scheduled notification whose provider answers `answer` once, then runs its one queue message. */
async function attemptOnce(body: Record<string, unknown>, match: string, answer: Record<string, unknown>) {
  await scriptProvider(match, `once ${JSON.stringify(answer)}`);
  const d = await sendOne(token, { ...body, send_at: inAnHour() });
  const queue = await deliver('dwc-tasks', [{ body: { kind: 'run', task_id: d.task_id, seq: 0 } }]);
  return { d, queue, delivery: await getDelivery(token, d.id), task: await getTask(token, d.task_id!) };
}

describe("a provider's requested wait", () => {
  it('Retry-After in seconds (Slack 429): retried after exactly that long, the delivery still pending', async () => {
    const hook = unique('slackrl');
    await saveChannel(token, 'slack', 'rl', { secrets: { webhook_url: `https://hooks.slack.com/services/T1/B1/${hook}` } });
    // Slack's rate limit answer: 429, text/plain "rate_limited", Retry-After in seconds.
    const { queue, delivery, task } = await attemptOnce({ channel: 'slack', recipient: 'rl', subject: 's', message: 'm' }, hook, {
      status: 429,
      headers: { 'retry-after': '120', 'content-type': 'text/plain' },
      body: 'rate_limited',
    });
    expect(queue.retryDelays).toEqual([{ msgId: expect.any(String), delaySeconds: 120 }]);
    expect(queue.explicitAcks).toEqual([]);
    expect(await providerLog('hooks.slack.com', hook)).toHaveLength(1);
    expect(delivery).toMatchObject({ status: 'retrying', attempts: 1, provider_status: 429 });
    const [first] = delivery.attempt_log!;
    expect(first).toMatchObject({ status: 'failed', retryable: true, response_code: 429 });
    const retryAt = /retry at (\S+), provider asked for 120 s/.exec(first!.error!);
    expect(retryAt, first!.error!).not.toBeNull();
    expect(task).toMatchObject({ status: 'retrying' });
    expect(task.attempt_log![0]!.retry_delay_seconds).toBe(120);
    // The task waits at least the 120 s the provider asked for, counted from its answer.
    const nextRetry = Date.parse((task as unknown as { next_retry_at: string }).next_retry_at);
    expect(nextRetry).toBeGreaterThanOrEqual(Date.parse(retryAt![1]!));
    expect(nextRetry - Date.parse(first!.at)).toBeGreaterThanOrEqual(120_000);
  });

  it('Retry-After as an HTTP date (Twilio 429): never sooner than that date', async () => {
    const to = '+14155550142';
    const until = new Date(Math.ceil((Date.now() + 300_000) / 1000) * 1000).toUTCString();
    const marker = unique('twrl');
    const { queue, delivery, task } = await attemptOnce({ channel: 'sms', recipient: to, message: marker }, marker, {
      status: 429,
      headers: { 'retry-after': until },
      body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 },
    });
    const delay = queue.retryDelays[0]!.delaySeconds!;
    // The date is whole seconds, at most 301 s ahead of the moment it was made.
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(301);
    expect(Date.parse((task as unknown as { next_retry_at: string }).next_retry_at)).toBeGreaterThanOrEqual(Date.parse(until));
    expect(delivery.status).toBe('retrying');
    expect(delivery.attempt_log![0]!.error).toContain(`provider asked for ${delay} s`);
  });

  it("Discord's JSON retry_after (fractional seconds) is rounded up, never down", async () => {
    const tokenPart = unique('discrl');
    await saveChannel(token, 'discord', 'rl', {
      secrets: { webhook_url: `https://discord.com/api/webhooks/123456789012345678/${tokenPart}` },
    });
    const { queue, delivery } = await attemptOnce({ channel: 'discord', recipient: 'rl', subject: 's', message: 'm' }, tokenPart, {
      status: 429,
      headers: { 'x-ratelimit-scope': 'user', 'x-ratelimit-reset-after': '64.57' },
      body: { message: 'You are being rate limited.', retry_after: 64.57, global: false },
    });
    expect(queue.retryDelays).toEqual([{ msgId: expect.any(String), delaySeconds: 65 }]);
    expect(delivery.status).toBe('retrying');
    expect(delivery.attempt_log![0]!.error).toContain('provider asked for 65 s');
  });

  it('a 503 with Retry-After (Resend) is honoured the same way', async () => {
    const to = `${unique('busy')}@example.com`;
    const { queue } = await attemptOnce({ channel: 'email', recipient: to, subject: 's', message: 'm' }, to, {
      status: 503,
      headers: { 'retry-after': '45' },
      body: { statusCode: 503, name: 'service_unavailable', message: 'try later' },
    });
    expect(queue.retryDelays).toEqual([{ msgId: expect.any(String), delaySeconds: 45 }]);
  });

  it("a wait past the task's deadline is not shortened: the delivery fails now, saying why", async () => {
    const to = `${unique('late')}@example.com`;
    // Deliveries have an hour (timeout_seconds 3600); Resend asks for two.
    const { queue, delivery, task } = await attemptOnce({ channel: 'email', recipient: to, subject: 's', message: 'm' }, to, {
      status: 429,
      headers: { 'retry-after': '7200' },
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' },
    });
    expect(queue.retryDelays).toEqual([]);
    expect(queue.explicitAcks).toHaveLength(1);
    expect(task.status).toBe('timed_out');
    expect(task.error).toContain('the provider asked to wait 7200 s, no time left for another attempt within timeout_seconds');
    expect(delivery.status).toBe('failed');
    expect(delivery.attempt_log![0]!.error).toContain('the provider asked to wait 7200 s');
    expect(await providerLog('api.resend.com', to)).toHaveLength(1);
  });

  it('a permanent 4xx is not retried, even with Retry-After', async () => {
    const hook = unique('slack403');
    await saveChannel(token, 'slack', 'gone', { secrets: { webhook_url: `https://hooks.slack.com/services/T1/B1/${hook}` } });
    const { queue, delivery, task } = await attemptOnce({ channel: 'slack', recipient: 'gone', subject: 's', message: 'm' }, hook, {
      status: 403,
      headers: { 'retry-after': '5', 'content-type': 'text/plain' },
      body: 'action_prohibited',
    });
    expect(queue.retryDelays).toEqual([]);
    expect(task.status).toBe('failed');
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, provider_status: 403 });
    expect(delivery.attempt_log![0]).toMatchObject({ retryable: false, error: expect.not.stringContaining('retry at') });
  });

  it('the bounds: the queue holds a retry 12 hours at most, and the deadline is never passed', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    const day = now + 86_400_000;
    expect(planRetry(1, now, day, 120_000)).toEqual({ retry: true, delaySeconds: 120, at: now + 120_000, advisedSeconds: 120 });
    expect(planRetry(1, now, day, 250)).toMatchObject({ retry: true, delaySeconds: 1 });
    expect(planRetry(1, now, day, (QUEUE_MAX_DELAY_SECONDS + 1) * 1000)).toMatchObject({
      retry: false,
      reason: `the provider asked to wait ${QUEUE_MAX_DELAY_SECONDS + 1} s, longer than the queue can delay a retry (${QUEUE_MAX_DELAY_SECONDS} s)`,
    });
    expect(planRetry(1, now, now + 60_000, 60_000)).toMatchObject({ retry: false, delaySeconds: 60 });
    // Without advice, the task layer's own backoff (1–2 s after a first failure).
    expect(planRetry(1, now, day, undefined, () => 0)).toEqual({ retry: true, delaySeconds: 1, at: now + 1000 });
  });
});
