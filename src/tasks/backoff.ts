const BASE_SECONDS = 2;
const MAX_SECONDS = 900;

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
