import { and, eq } from 'drizzle-orm';
import { taskEffects } from '../../db/schema';
import { readExcerpt } from '../../lib/http';
import { retryAfterFromHeaders } from '../../lib/retry-after';
import { derivedId, formatTraceparent, randomId } from '../../lib/trace-context';
import { checkOutboundUrl } from '../../lib/ssrf';
import { effectInsert } from '../lifecycle';
import { outboundPolicy, type Payloads } from '../payloads';
import { signingSecret, signWebhook } from '../signing';
import { TaskError, type AttemptContext, type Outcome } from '../registry';

const ATTEMPT_TIMEOUT_MS = 30_000;
const EXCERPT_BYTES = 1024;

/**
 * webhook_call: one signed HTTP request. The call is the effect, and HTTP cannot join a D1
 * batch, so idempotency has two halves: a 'delivered' effect row written with the task's
 * success (a later delivery of the message finds it and does not call again), and the
 * `webhook-id` header, the same on every attempt, for the window between a call and its row.
 */
export async function webhookCall({ env, db, task, now, deadline }: AttemptContext, p: Payloads['webhook_call']): Promise<Outcome> {
  const done = await db
    .select()
    .from(taskEffects)
    .where(and(eq(taskEffects.taskId, task.id), eq(taskEffects.effect, 'delivered')))
    .get();
  if (done) return { kind: 'succeeded', result: done.detail };

  // Checked again at run time: the policy may have changed since the task was accepted.
  const check = checkOutboundUrl(p.url, outboundPolicy(env));
  if (!check.ok) throw new TaskError(`this URL may not be called: ${check.reason}`, false);

  const body = JSON.stringify(p.body);
  const id = `task_${task.id}`;
  const timestamp = Math.floor(now / 1000);
  const { secret } = await signingSecret(env, db, task.ownerId);
  const headers = new Headers(p.headers);
  headers.set('content-type', 'application/json');
  headers.set('user-agent', 'document-workflow-chain-webhooks/1');
  headers.set('webhook-id', id);
  headers.set('webhook-timestamp', String(timestamp));
  headers.set('webhook-signature', await signWebhook(secret, id, timestamp, body));
  // W3C trace context: a traceparent the task was given is passed on as it is; otherwise the call
  // is a span of the task's own trace (derived from the task), so a receiver sees a delivery's
  // retries as one trace.
  if (!headers.has('traceparent')) {
    const traceId = await derivedId(`dwc-task:${task.id}:${task.createdAt}`, 16);
    headers.set('traceparent', formatTraceparent({ traceId, spanId: randomId(8), sampled: true }));
  }

  const timeoutMs = Math.max(1, Math.min(ATTEMPT_TIMEOUT_MS, deadline - now));
  let res: Response;
  try {
    // redirect: 'manual' — a public URL must not be able to bounce us to a private one.
    res = await fetch(check.url, { method: p.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new TaskError(
      timedOut
        ? `no answer within ${Math.round(timeoutMs / 1000)}s`
        : `the request failed: ${err instanceof Error ? err.message : String(err)}`,
      true,
    );
  }
  const text = await readExcerpt(res, EXCERPT_BYTES);
  if (res.status >= 300 && res.status < 400) throw new TaskError(`the receiver answered ${res.status}; redirects are not followed`, false);
  if (!res.ok) {
    const retryable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
    // The receiver's Retry-After is the least the next attempt waits (src/tasks/backoff.ts planRetry).
    const wait = retryable ? retryAfterFromHeaders(res.headers, now) : undefined;
    throw new TaskError(`the receiver answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, retryable, wait);
  }
  const detail = { status: res.status, webhook_id: id, response_excerpt: text, delivered_at: new Date(now).toISOString() };
  return { kind: 'succeeded', result: detail, statements: [effectInsert(db, task.id, { effect: 'delivered', detail })] };
}
