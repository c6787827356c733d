import type { z } from 'zod';
import { RetryPolicy } from './definition';

export type Retry = z.infer<typeof RetryPolicy>;
export const DEFAULT_RETRY: Retry = RetryPolicy.parse({});

/**
 * Delay before the next attempt after attempt `failed` (1-based) failed. Jitter is "equal
 * jitter": half the delay is kept and half is random, so retries from many runs spread out while
 * each delay stays at least half its nominal value — exponential delays therefore still grow.
 */
export function retryDelay(policy: Retry, failed: number, random: () => number = Math.random): number {
  const factor = policy.backoff === 'constant' ? 1 : policy.backoff === 'linear' ? failed : 2 ** (failed - 1);
  const nominal = Math.min(policy.initial_delay_ms * factor, policy.max_delay_ms);
  return Math.round(policy.jitter ? nominal / 2 + random() * (nominal / 2) : nominal);
}
