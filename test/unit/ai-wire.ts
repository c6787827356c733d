import { ProviderError, type Fetcher, type GenerateRequest } from '../../src/ai/types';
import type { WorkersAiBinding } from '../../src/ai/workers-ai';

/*
 * Recorded wire traffic for the AI provider tests: a fake fetch (or AI binding) that records the
 * request and answers with a body in the documented format.
 */

export type Call = { url: string; init: RequestInit };

export function fakeFetch(...replies: Array<Response | Error>) {
  const calls: Call[] = [];
  const fetch: Fetcher = async (url, init) => {
    calls.push({ url, init });
    const reply = replies.shift();
    if (reply === undefined) throw new Error('unexpected extra request');
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return { fetch, calls };
}

/** What went over the wire, in a form `toEqual` can compare exactly. */
export function sent(call: Call | undefined) {
  if (!call) throw new Error('no request was sent');
  const { body } = call.init;
  return {
    url: call.url,
    method: call.init.method,
    headers: Object.fromEntries(new Headers(call.init.headers)),
    body: typeof body === 'string' ? JSON.parse(body) : body,
  };
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** `text` cut into `size`-byte reads, so lines, `\r\n` pairs and UTF-8 characters straddle reads. */
export function chunked(text: string, size: number, onCancel?: () => void): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
    cancel: onCancel,
  });
}
export const sse = (text: string, size = 5) => new Response(chunked(text, size), { headers: { 'content-type': 'text/event-stream' } });

export async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => new Error('expected the call to fail'),
    (e: unknown) => e,
  );
  if (!(err instanceof ProviderError)) throw err;
  return err;
}

export function collect() {
  const tokens: string[] = [];
  return { tokens, onToken: (chunk: string) => void tokens.push(chunk) };
}

/** A binding whose `run` records its arguments and answers with the next result (an Error is thrown). */
export function fakeAi(...results: unknown[]) {
  const calls: unknown[][] = [];
  const ai: WorkersAiBinding = {
    async run(...args) {
      calls.push(args);
      const result = results.shift();
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return { ai, calls };
}

export const request: GenerateRequest = {
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Summarise: the cat sat on the mat.' },
    { role: 'assistant', content: 'Which part?' },
    { role: 'user', content: 'All of it.' },
  ],
  maxTokens: 64,
  temperature: 0.2,
};
export const chat = [
  { role: 'user', content: 'Summarise: the cat sat on the mat.' },
  { role: 'assistant', content: 'Which part?' },
  { role: 'user', content: 'All of it.' },
];
