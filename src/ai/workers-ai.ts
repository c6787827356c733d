import { z } from 'zod';
import { ProviderError, estimateTokens, type AIProvider, type GenerateOptions, type GenerateRequest, type GenerateResult } from './types';
import { abortError, parseJson, providerSse, truncatedStream, validate } from './sse';

/*
 * Workers AI through the native `env.AI` binding: no key and no URL, the binding carries the
 * account. `wrangler dev` cannot run it locally — the binding throws "Binding AI needs to be run
 * remotely" — so that failure means "not configured here", not "try again".
 */

/** The part of the `Ai` binding we use; narrow so tests can pass a fake. */
export type WorkersAiBinding = {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
};

export type WorkersAIConfig = {
  /** Default '@cf/meta/llama-3.1-8b-instruct'. */
  defaultModel?: string;
};

const Usage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() });

// Text-generation output. `usage` is reported by current models but is not guaranteed.
const Output = z.object({ response: z.string(), usage: Usage.optional() });

// A streamed event's data: `{"response":"..."}`; the last before `[DONE]` has `response: ""` and the usage.
const Chunk = z.object({ response: z.string().optional(), usage: Usage.optional() });

// Cloudflare serves some models with a smaller window than the upstream model supports, so only
// models listed here get more than the conservative default.
const CONTEXT_WINDOWS: Record<string, number> = {
  '@cf/meta/llama-3.1-8b-instruct': 8_192,
};

// The output cap the text-generation models apply when `max_tokens` is absent (llama-3.1's
// documented default is 256; other models may differ, which only blurs the finishReason guess).
const MODEL_DEFAULT_MAX_TOKENS = 256;

type Reply = { text: string; usage: z.infer<typeof Usage> | undefined };
const toReply = (output: z.infer<typeof Output>): Reply => ({ text: output.response, usage: output.usage });

export class WorkersAIProvider implements AIProvider {
  readonly name = 'workers-ai';
  readonly defaultModel: string;
  readonly #ai: WorkersAiBinding | undefined;

  /** `ai` is `env.AI`; undefined when the binding is not declared, which `generate` reports as not_configured. */
  constructor(ai: WorkersAiBinding | undefined, config: WorkersAIConfig = {}) {
    this.#ai = ai;
    this.defaultModel = config.defaultModel ?? '@cf/meta/llama-3.1-8b-instruct';
  }

  contextWindow(model: string): number {
    return CONTEXT_WINDOWS[model] ?? 8_192;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const ai = this.#ai;
    if (!ai) throw new ProviderError('workers-ai', 'not_configured', 'workers-ai: no AI binding', false);
    const { signal } = options;
    if (signal?.aborted) throw abortError('workers-ai', signal);
    const model = request.model ?? this.defaultModel;
    const stream = request.stream === true;
    const inputs = withoutUndefined({
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      stream: stream ? true : undefined,
    });
    let result: unknown;
    try {
      result = await ai.run(model, inputs, signal ? { signal } : undefined);
    } catch (err) {
      throw runError(err, signal);
    }
    const reply = stream ? await readStream(result, options) : toReply(validate('workers-ai', result, Output));
    const tokensOut = reply.usage?.completion_tokens ?? estimateTokens(reply.text);
    return {
      text: reply.text,
      provider: 'workers-ai',
      model,
      tokensIn: reply.usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut,
      // The binding reports no finish reason. An answer that filled its whole budget was almost
      // certainly cut off; one that did not stopped on its own. Without usage we cannot tell.
      finishReason: !reply.usage ? 'other' : tokensOut >= (request.maxTokens ?? MODEL_DEFAULT_MAX_TOKENS) ? 'length' : 'stop',
    };
  }
}

// The binding serialises inputs itself; dropping unset options keeps each model's own defaults.
function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function runError(err: unknown, signal: AbortSignal | undefined): ProviderError {
  if (signal?.aborted) return abortError('workers-ai', signal);
  const message = err instanceof Error ? err.message : String(err);
  if (message.includes('Binding AI needs to be run remotely')) {
    return new ProviderError('workers-ai', 'not_configured', 'workers-ai: the AI binding only runs on Cloudflare, not locally', false);
  }
  // Upstream inference failures and capacity errors both surface as plain throws; we cannot tell
  // them apart reliably, so one more attempt is allowed.
  return new ProviderError('workers-ai', 'server_error', `workers-ai: ${message.slice(0, 200)}`, true);
}

async function readStream(result: unknown, { signal, onToken }: GenerateOptions): Promise<Reply> {
  // With `stream: true` the binding resolves to the raw SSE byte stream instead of an object.
  if (!(result instanceof ReadableStream)) {
    throw new ProviderError('workers-ai', 'invalid_response', 'workers-ai: expected a stream', true);
  }
  let text = '';
  let usage: Reply['usage'];
  let done = false;
  for await (const { data } of providerSse('workers-ai', result, signal)) {
    if (data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parseJson('workers-ai', data, Chunk);
    if (chunk.response) {
      text += chunk.response;
      onToken?.(chunk.response);
    }
    usage = chunk.usage ?? usage;
  }
  if (!done) throw truncatedStream('workers-ai');
  return { text, usage };
}
