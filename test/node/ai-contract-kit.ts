import { conversation, type Recorded } from './ai-fixtures.ts';

/*
 * What the contract tests share (ai-contracts.test.ts, ai-contracts-structured.test.ts): the
 * adapters loaded by path, a fetch and an AI binding that record what was sent and answer with
 * recorded responses, and the logical request every provider is asked.
 *
 * The adapters are loaded by path, as the OpenAPI test loads the app: the Node project's
 * type-checking (NodeNext) does not follow the worker sources' extensionless imports, so their
 * shapes are declared here.
 */

export type Req = {
  messages: { role: 'system' | 'user' | 'assistant'; content: string }[];
  model?: string;
  maxTokens?: number;
  temperature?: number;
  stream?: boolean;
  output?: { name: string; schema: Record<string, unknown> };
};
export type Res = {
  text: string;
  tokensIn: number;
  tokensOut: number;
  tokensReasoning?: number;
  finishReason: string;
  rawFinishReason?: string;
  json?: unknown;
  jsonError?: string;
};
type Provider = { defaultModel: string; generate(req: Req, options?: { onToken?: (t: string) => void }): Promise<Res> };
type Fetcher = (url: string, init: RequestInit) => Promise<Response>;
export type Binding = { run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown> };
export type Adapters = {
  OpenAIProvider: new (config: { apiKey: string; baseUrl?: string }, fetch: Fetcher) => Provider;
  AnthropicProvider: new (config: { apiKey: string }, fetch: Fetcher) => Provider;
  GoogleProvider: new (config: { apiKey: string }, fetch: Fetcher) => Provider;
  WorkersAIProvider: new (ai: Binding, config?: { gateway?: string; defaultModel?: string }) => Provider;
};

export async function loadAdapters(): Promise<Adapters> {
  const load = (path: string) => import(/* @vite-ignore */ path);
  return {
    ...(await load('../../src/ai/openai.ts')),
    ...(await load('../../src/ai/anthropic.ts')),
    ...(await load('../../src/ai/google.ts')),
    ...(await load('../../src/ai/workers-ai.ts')),
  };
}

export const KEY = 'test-key-123';
export const request: Req = {
  messages: [{ role: 'system', content: conversation.system }, ...conversation.turns],
  maxTokens: conversation.maxTokens,
  temperature: conversation.temperature,
};

/** A fetch that records what was sent and answers with recorded responses, in order. */
export function recorder(...answers: Recorded[]) {
  const sent: { url: string; method: string; headers: Headers; body: unknown }[] = [];
  const fetch = async (input: string | URL | Request, init: RequestInit = {}) => {
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : init.body;
    sent.push({ url: String(input), method: init.method ?? 'GET', headers: new Headers(init.headers), body });
    const answer = answers.shift();
    if (!answer) throw new Error('no recorded answer left');
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
  return { fetch, sent };
}

/** The parts of a request that carry meaning: where, how authenticated, which API version, what. */
export function wire(call: { url: string; method: string; headers: Headers; body: unknown } | undefined) {
  if (!call) throw new Error('nothing was sent');
  const h = call.headers;
  const pick = (...names: string[]) => Object.fromEntries(names.flatMap((n) => (h.get(n) === null ? [] : [[n, h.get(n)]])));
  return {
    url: call.url,
    method: call.method,
    headers: pick('authorization', 'x-api-key', 'anthropic-version', 'x-goog-api-key', 'content-type'),
    body: call.body,
  };
}

/** A Workers AI binding that records each run and answers in order; an Error answer is thrown as the binding's error. */
export function binding(...outputs: unknown[]) {
  const runs: { model: string; inputs: unknown; options: unknown }[] = [];
  const ai: Binding = {
    async run(model, inputs, options) {
      // JSON drops the undefined options the AI SDK provider leaves in, so both sides compare by value.
      runs.push({ model, inputs: JSON.parse(JSON.stringify(inputs)), options: JSON.parse(JSON.stringify(options ?? {})) });
      const output = outputs.shift();
      if (output instanceof Error) throw output;
      return typeof output === 'string' && /^data: /.test(output) ? new Response(output).body : output;
    },
  };
  return { ai, runs };
}
