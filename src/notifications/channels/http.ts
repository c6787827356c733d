import { readExcerpt } from '../../lib/http';
import { retryAfterFromHeaders } from '../../lib/retry-after';
import { checkOutboundUrl } from '../../lib/ssrf';
import { ChannelError } from './types';
import { outboundPolicy } from '../../tasks';

const TIMEOUT_MS = 20_000;
const EXCERPT_BYTES = 2048;

/** 408, 425, 429 and 5xx may succeed later; every other 4xx is an answer about the request itself. */
export const retryableStatus = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/**
 * Checks a user-supplied URL (a webhook, a chat webhook, a push endpoint) with the SSRF guard.
 * Called when the URL is saved and again right before each send: the policy may have changed.
 */
export function guardUrl(env: Env, raw: string): URL {
  const check = checkOutboundUrl(raw, outboundPolicy(env));
  if (!check.ok) throw new ChannelError(`this URL may not be called: ${check.reason}`, false);
  return check.url;
}

/** Reads a provider's wait advice from its error body, where a provider puts it there (Discord). */
export type BodyAdvice = (text: string) => number | undefined;

/**
 * One request to a provider. Redirects are never followed (a public URL must not bounce us to a
 * private one); the verdict on failure follows `retryableStatus`, and a network error or timeout
 * is retryable. A retryable answer carries the provider's requested wait, the longer of
 * `Retry-After` (seconds or an HTTP date) and what `bodyAdvice` reads from the body.
 */
export async function callProvider(
  provider: string,
  url: string | URL,
  init: RequestInit,
  bodyAdvice?: BodyAdvice,
): Promise<{ status: number; text: string; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new ChannelError(
      timedOut
        ? `${provider} did not answer within ${TIMEOUT_MS / 1000}s`
        : `the request to ${provider} failed: ${err instanceof Error ? err.message : String(err)}`,
      true,
    );
  }
  const text = await readExcerpt(res, EXCERPT_BYTES);
  if (res.status >= 300 && res.status < 400)
    throw new ChannelError(`${provider} answered ${res.status}; redirects are not followed`, false, res.status);
  if (!res.ok) {
    const retryable = retryableStatus(res.status);
    const advised = retryable ? [retryAfterFromHeaders(res.headers), bodyAdvice?.(text)].filter((ms) => ms !== undefined) : [];
    throw new ChannelError(
      `${provider} answered ${res.status}${text ? `: ${text.slice(0, 300)}` : ''}`,
      retryable,
      res.status,
      advised.length ? Math.max(...advised) : undefined,
    );
  }
  return { status: res.status, text, headers: res.headers };
}

/** A JSON field of a provider's answer, if the answer is JSON and has it. */
export function jsonField(text: string, field: string): string | null {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && field in v) {
      const f = (v as Record<string, unknown>)[field];
      return typeof f === 'string' || typeof f === 'number' ? String(f) : null;
    }
  } catch {
    // Not JSON: the provider gave no id, which is not an error.
  }
  return null;
}
