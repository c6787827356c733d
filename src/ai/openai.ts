import { z } from 'zod';
import {
  ProviderError,
  estimateTokens,
  type AIProvider,
  type Fetcher,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
} from './types';
import { parseJson, postJson, providerSse, readJson, requireKey, truncatedStream } from './sse';

/*
 * OpenAI Chat Completions, and through `baseUrl` any server speaking the same dialect (Groq,
 * Together, vLLM, Ollama's /v1). Only the subset those servers share is used: `messages` with
 * system/user/assistant roles, `max_tokens`, `temperature` and `stream`.
 */

export type OpenAIConfig = {
  apiKey: string;
  /** Default 'https://api.openai.com/v1'; any OpenAI-compatible endpoint. */
  baseUrl?: string;
  /** Default 'gpt-4o-mini'. */
  defaultModel?: string;
};

const Usage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() });

const Completion = z.object({
  choices: z
    .array(
      z.object({
        // null when the model answers with a tool call or a refusal rather than text
        message: z.object({ content: z.string().nullable() }),
        finish_reason: z.string().nullable(),
      }),
    )
    .min(1),
  // Optional because some compatible servers leave it out; we then estimate.
  usage: Usage.optional(),
});

// A streamed chunk. With `stream_options.include_usage`, every chunk carries `usage: null` except
// a last one that has the usage and `choices: []`. A failure after the 200 arrives as `{ error }`.
const Chunk = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish() })).default([]),
  usage: Usage.nullish(),
  error: z.object({ message: z.string() }).optional(),
});

// Most specific prefix first: 'gpt-4' would otherwise claim every gpt-4o and gpt-4.1 model.
const CONTEXT_WINDOWS: ReadonlyArray<readonly [prefix: string, tokens: number]> = [
  ['gpt-4.1', 1_047_576],
  ['gpt-4o', 128_000],
  ['gpt-4-turbo', 128_000],
  ['gpt-4', 8_192],
  ['gpt-3.5-turbo', 16_385],
  ['o1-mini', 128_000],
  ['o1', 200_000],
  ['o3', 200_000],
  ['o4-mini', 200_000],
];

type Reply = { text: string; finish: string | null | undefined; usage: z.infer<typeof Usage> | null | undefined };

export class OpenAIProvider implements AIProvider {
  readonly name = 'openai';
  readonly defaultModel: string;
  // `#` fields stay out of JSON.stringify and console.log of the provider, so the key does too.
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #fetch: Fetcher;

  constructor(config: OpenAIConfig, fetch: Fetcher) {
    this.#apiKey = config.apiKey;
    this.#baseUrl = (config.baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
    this.defaultModel = config.defaultModel ?? 'gpt-4o-mini';
    this.#fetch = fetch;
  }

  contextWindow(model: string): number {
    return CONTEXT_WINDOWS.find(([prefix]) => model.startsWith(prefix))?.[1] ?? 8_192;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const apiKey = requireKey('openai', this.#apiKey);
    const model = request.model ?? this.defaultModel;
    const stream = request.stream === true;
    const body = {
      model,
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      // Without include_usage a streamed reply reports no token counts at all.
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const res = await postJson('openai', this.#fetch, `${this.#baseUrl}/chat/completions`, headers, body, options.signal);
    const reply = stream ? await readStream(res, options) : await readCompletion(res, options.signal);
    return {
      text: reply.text,
      provider: 'openai',
      model,
      tokensIn: reply.usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut: reply.usage?.completion_tokens ?? estimateTokens(reply.text),
      finishReason: reply.finish === 'stop' ? 'stop' : reply.finish === 'length' ? 'length' : 'other',
    };
  }
}

async function readCompletion(res: Response, signal: AbortSignal | undefined): Promise<Reply> {
  const completion = await readJson('openai', res, Completion, signal);
  // `.min(1)` above guarantees a first choice; the check only satisfies noUncheckedIndexedAccess.
  const choice = completion.choices[0];
  return { text: choice?.message.content ?? '', finish: choice?.finish_reason, usage: completion.usage };
}

async function readStream(res: Response, { signal, onToken }: GenerateOptions): Promise<Reply> {
  let text = '';
  let finish: string | null | undefined;
  let usage: Reply['usage'];
  let done = false;
  for await (const { data } of providerSse('openai', res.body, signal)) {
    if (data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parseJson('openai', data, Chunk);
    if (chunk.error) throw new ProviderError('openai', 'server_error', `openai: stream failed: ${chunk.error.message.slice(0, 200)}`, true);
    const choice = chunk.choices[0];
    const delta = choice?.delta.content;
    if (delta) {
      text += delta;
      onToken?.(delta);
    }
    finish = choice?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  // Servers that never send `[DONE]` still mark the last content chunk with a finish_reason.
  if (!done && !finish) throw truncatedStream('openai');
  return { text, finish, usage };
}
