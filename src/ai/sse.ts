import { z } from 'zod';
import { httpError, type ModelContext } from './errors';
import { ProviderError, type Fetcher, type ProviderName } from './types';

/*
 * The wire plumbing the network providers share: a server-sent-events parser for streamed
 * replies, and the one place that decides what a thrown fetch, a non-2xx status or a malformed
 * body means for retrying. Each provider file then holds only its own wire format.
 */

export type SseEvent = { event?: string; data: string };

/**
 * Parses a `text/event-stream` body incrementally, yielding each dispatched event.
 *
 * Follows the WHATWG "interpreting an event stream" rules, because providers differ in exactly
 * the details they cover: Gemini ends lines with `\r\n`, Anthropic names its events, proxies
 * insert `:` keep-alive comments, and any network read may stop mid-line or mid-character.
 * `id` and `retry` only matter to EventSource reconnection, which we never do, so they are ignored.
 *
 * @example
 * for await (const { event, data } of readSse(res.body)) console.log(event, JSON.parse(data));
 */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  // Streaming mode holds back a UTF-8 sequence split across reads; a leading BOM is dropped, as the spec asks.
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event: string | undefined;
  let settled = false;
  try {
    while (true) {
      const chunk = await reader.read().catch((err: unknown) => {
        settled = true;
        throw err;
      });
      buffer += chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
      const { lines, rest } = splitLines(buffer, chunk.done);
      buffer = rest;
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
          data = [];
          event = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        const raw = colon === -1 ? '' : line.slice(colon + 1);
        const value = raw.startsWith(' ') ? raw.slice(1) : raw;
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value === '' ? undefined : value;
      }
      if (chunk.done) {
        // The spec discards an event whose closing blank line never came: it may be cut short.
        settled = true;
        return;
      }
    }
  } finally {
    // A consumer that stops early (after `[DONE]`, or on an error) must release the upstream
    // connection: a Worker may hold only six open at a time, and an unread body keeps its slot.
    if (!settled) await reader.cancel();
  }
}

/** Splits complete lines off `buffer`. A trailing `\r` waits for the next read, which may begin with its `\n`. */
export function splitLines(buffer: string, final: boolean): { lines: string[]; rest: string } {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < buffer.length; i++) {
    const ch = buffer[i];
    if (ch !== '\n' && ch !== '\r') continue;
    if (ch === '\r' && i === buffer.length - 1 && !final) break;
    lines.push(buffer.slice(start, i));
    if (ch === '\r' && buffer[i + 1] === '\n') i++;
    start = i + 1;
  }
  return { lines, rest: buffer.slice(start) };
}

/**
 * The caller's own abort is final; a deadline set with `AbortSignal.timeout()` (reason
 * `TimeoutError`) is a timeout, which a fresh attempt may beat.
 */
export function abortError(provider: ProviderName, signal: AbortSignal): ProviderError {
  const reason: unknown = signal.reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new ProviderError(provider, 'timeout', `${provider}: request timed out`, true);
  }
  return new ProviderError(provider, 'aborted', `${provider}: request aborted`, false);
}

/** Classifies an exception from fetch or from reading a body: the caller's abort, else a failed connection. */
export function thrownError(provider: ProviderName, err: unknown, signal: AbortSignal | undefined): ProviderError {
  if (err instanceof ProviderError) return err;
  if (signal?.aborted) return abortError(provider, signal);
  const detail = err instanceof Error ? err.message : String(err);
  return new ProviderError(provider, 'network', `${provider}: network error: ${detail}`, true);
}

export function requireKey(provider: ProviderName, apiKey: string | undefined): string {
  if (!apiKey) throw new ProviderError(provider, 'not_configured', `${provider}: no API key configured`, false);
  return apiKey;
}

/**
 * POSTs a JSON body; resolves only with a 2xx response, every other outcome is a classified
 * ProviderError (src/ai/errors.ts), which names `context`'s model and setting when the provider
 * does not serve the model.
 */
export async function postJson(
  provider: ProviderName,
  fetch: Fetcher,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal | undefined,
  context: ModelContext,
): Promise<Response> {
  if (signal?.aborted) throw abortError(provider, signal);
  let res: Response;
  try {
    // JSON.stringify leaves out undefined fields, so options the caller did not set are absent on the wire.
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
  } catch (err) {
    throw thrownError(provider, err, signal);
  }
  if (res.ok) return res;
  // The status already classifies the failure; the body only refines it, so a body that cannot
  // be read is reported as such rather than replacing the status error.
  const text = await res.text().catch(() => '(unreadable body)');
  throw httpError(provider, res.status, res.headers, text, context);
}

function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Validates a value from a provider; a 2xx reply in the wrong shape is worth one more attempt. */
export function validate<T>(provider: ProviderName, value: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const detail = z.prettifyError(parsed.error).replace(/\s+/g, ' ').slice(0, 200);
  throw new ProviderError(provider, 'invalid_response', `${provider}: unexpected response: ${detail}`, true);
}

/** Parses JSON text from a provider against a schema; text that is not JSON fails the same way. */
export function parseJson<T>(provider: ProviderName, text: string, schema: z.ZodType<T>): T {
  return validate(provider, jsonOrUndefined(text), schema);
}

export async function readJson<T>(
  provider: ProviderName,
  res: Response,
  schema: z.ZodType<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    throw thrownError(provider, err, signal);
  }
  return parseJson(provider, text, schema);
}

/**
 * `readSse` with its failures classified. An abort is checked between events too, since a body
 * not tied to the signal (a test's stream, possibly the AI binding's) would keep flowing.
 */
export async function* providerSse(
  provider: ProviderName,
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal | undefined,
): AsyncGenerator<SseEvent> {
  if (!body) throw new ProviderError(provider, 'invalid_response', `${provider}: streamed response has no body`, true);
  try {
    for await (const event of readSse(body)) {
      if (signal?.aborted) throw abortError(provider, signal);
      yield event;
    }
  } catch (err) {
    throw thrownError(provider, err, signal);
  }
}

/** A stream that ends before the provider's completion marker was cut off, not finished. */
export const truncatedStream = (provider: ProviderName) =>
  new ProviderError(provider, 'network', `${provider}: stream ended before the reply was complete`, true);
