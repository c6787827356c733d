/*
 * A provider's own advice on when to call again, as HTTP carries it (RFC 9110 §10.2.3:
 * `Retry-After` is either delay-seconds or an HTTP-date; OpenAI and Anthropic add `retry-after-ms`).
 * Shared by every outbound caller: the AI adapters and the notification channels read the same
 * headers the same way, and the task layer turns the result into the queue's retry delay.
 */

/**
 * The least delay, in milliseconds, a response asks for: `retry-after-ms`, else `retry-after` in
 * seconds (fractions allowed) or as an HTTP date (counted from `now`, never negative). Undefined
 * when the response gives no advice or advice that cannot be read.
 *
 * @example
 * retryAfterFromHeaders(new Headers({ 'retry-after': '120' })); // 120_000
 * retryAfterFromHeaders(new Headers({ 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }), Date.parse('Wed, 21 Oct 2026 07:27:00 GMT')); // 60_000
 */
export function retryAfterFromHeaders(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
