const BASE_SECONDS = 2;
const MAX_SECONDS = 900;
/** Cloudflare Queues' longest `delaySeconds` for a message or a retry (12 hours). */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;

/**
 * Delay before the next attempt after `failedAttempt` (1-based) failed: exponential, with
 * "equal jitter" — half of the step fixed, half random — so retries of many tasks that failed
 * together spread out, yet each delay is at least the previous one (attempt n waits between
 * 2^(n-1) and 2^n seconds, capped at 15 minutes). Queues accepts up to 12 hours.
 */
export function retryDelaySeconds(failedAttempt: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_SECONDS, BASE_SECONDS * 2 ** Math.max(0, failedAttempt - 1));
  return Math.ceil(step / 2 + (random() * step) / 2);
}

/** When the next attempt runs, or why none can run in time. */
export type RetryPlan =
  | { retry: true; delaySeconds: number; at: number; advisedSeconds?: number }
  | { retry: false; reason: string; delaySeconds: number; advisedSeconds?: number };

/**
 * The retry after a failed attempt. A provider's advice (`advisedMs`, from Retry-After or its
 * body) is followed to the second: the next attempt is never sooner than asked, and it replaces
 * our backoff (the provider knows when its window reopens; jitter on top would only add wait).
 * A wait that the queue cannot hold (over 12 hours) or that ends at or past the task's deadline
 * is not shortened: there is no retry, and `reason` says why. Remaining attempts are the
 * caller's to count.
 *
 * @example
 * planRetry(1, now, now + 3_600_000, 120_000); // { retry: true, delaySeconds: 120, at: now + 120_000, advisedSeconds: 120 }
 */
export function planRetry(
  failedAttempt: number,
  now: number,
  deadline: number,
  advisedMs?: number,
  random: () => number = Math.random,
): RetryPlan {
  const advisedSeconds = advisedMs === undefined ? undefined : Math.max(1, Math.ceil(advisedMs / 1000));
  const delaySeconds = advisedSeconds ?? retryDelaySeconds(failedAttempt, random);
  const asked = advisedSeconds === undefined ? '' : `the provider asked to wait ${advisedSeconds} s, `;
  const extra = advisedSeconds === undefined ? {} : { advisedSeconds };
  if (delaySeconds > QUEUE_MAX_DELAY_SECONDS)
    return {
      retry: false,
      delaySeconds,
      reason: `${asked}longer than the queue can delay a retry (${QUEUE_MAX_DELAY_SECONDS} s)`,
      ...extra,
    };
  if (now + delaySeconds * 1000 >= deadline)
    return { retry: false, delaySeconds, reason: `${asked}no time left for another attempt within timeout_seconds`, ...extra };
  return { retry: true, delaySeconds, at: now + delaySeconds * 1000, ...extra };
}
