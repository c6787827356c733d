import { z } from 'zod';
import { modelInfo, type ModelInfo } from './catalogue';
import { modelContext, modelNotFound, type ModelContext } from './errors';
import { DEFAULT_MODELS } from './models';
import { abortError, parseJson, providerSse, truncatedStream } from './sse';
import { objectRoot, requireStructuredSupport, structuredFields } from './structured';
import { ProviderError, estimateTokens, type AIProvider, type GenerateOptions, type GenerateRequest, type GenerateResult } from './types';

/*
 * Workers AI through the native `env.AI` binding: no key and no URL, the binding carries the
 * account. `wrangler dev` cannot run it locally — the binding throws "Binding AI needs to be run
 * remotely" — so that failure means "not configured here", not "try again".
 *
 * Text models answer in one of two families, and the binding passes either through as it is:
 * - the original `{ response, usage }` (Llama 3.x, Llama 4, Qwen3 …), `response` a string or,
 *   with JSON mode, an object; streamed as SSE events `{"response":"…"}`;
 * - OpenAI's ChatCompletionsOutput `{ choices: [{ message: { content } }], usage }` (GLM, Gemma 4,
 *   Kimi, gpt-oss …); streamed as chat.completion.chunk events with `choices[0].delta.content`.
 * A non-streamed body that is not JSON reaches us as a byte stream or a plain string, and some
 * models answer a streamed request with a whole object; all of these are read. Which family a
 * model uses is read from what it sends, not from a list, so new models need no code.
 *
 * With WORKERS_AI_GATEWAY set the binding routes the call through that AI Gateway (caching,
 * logs, rate limits): `gateway: { id }` in the run options.
 *
 * Structured output is JSON mode: `response_format: { type: 'json_schema', json_schema }` with
 * the bare schema (not OpenAI's `{ name, schema, strict }` envelope), the name as its `title` —
 * as Cloudflare's AI SDK provider sends it — for models the catalogue marks structuredOutput.
 * Cloudflare documents that JSON mode does not stream and may fail with "JSON Mode couldn't be
 * met", so a structured call is made whole (its text handed to `onToken` as one chunk).
 */

/** The part of the `Ai` binding we use; narrow so tests can pass a fake. */
export type WorkersAiBinding = {
  run(model: string, inputs: Record<string, unknown>, options?: Record<string, unknown>): Promise<unknown>;
};

export type WorkersAIConfig = {
  /** Default: the catalogue's current Workers AI default. */
  defaultModel?: string;
  /** An AI Gateway id to route calls through. */
  gateway?: string;
  /** The catalogue's view of a model; default: the built-in catalogue, without AI_MODELS corrections. */
  describe?: (model: string) => ModelInfo;
};

const Usage = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  completion_tokens_details: z.object({ reasoning_tokens: z.number().optional() }).nullish(),
});
type UsageT = z.infer<typeof Usage>;

// `{ response }`: a string, or an object in JSON mode (passed on as JSON text, as Cloudflare's AI SDK provider does).
const NativeOutput = z.object({
  response: z.union([z.string(), z.number(), z.record(z.string(), z.unknown()), z.null()]),
  usage: Usage.optional(),
});
const ChatOutput = z.object({
  choices: z
    .array(
      z.object({
        // content is null when a reasoning model spent its whole budget thinking, or called a tool
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: Usage.optional(),
});

// One streamed event of either family; the usage arrives on the last event before `[DONE]`.
const Chunk = z.object({
  response: z.string().nullish(),
  choices: z
    .array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish(), finish_reason: z.string().nullish() }))
    .nullish(),
  finish_reason: z.string().nullish(),
  usage: Usage.nullish(),
  error: z.union([z.string(), z.object({ message: z.string() })]).optional(),
});

// The output cap the original text-generation models apply when `max_tokens` is absent
// (llama-3.x documents 256); only used to guess a finish reason the output does not give.
const MODEL_DEFAULT_MAX_TOKENS = 256;
// Out of capacity (3040) names no delay; a few seconds lets the capacity queue move.
const CAPACITY_RETRY_MS = 5_000;

type Reply = { text: string; usage: UsageT | undefined; finish: string | undefined };

export class WorkersAIProvider implements AIProvider {
  readonly name = 'workers-ai';
  readonly defaultModel: string;
  readonly #ai: WorkersAiBinding | undefined;
  readonly #gateway: string | undefined;
  readonly #describe: (model: string) => ModelInfo;

  /** `ai` is `env.AI`; undefined when the binding is not declared, which `generate` reports as not_configured. */
  constructor(ai: WorkersAiBinding | undefined, config: WorkersAIConfig = {}) {
    this.#ai = ai;
    this.defaultModel = config.defaultModel ?? DEFAULT_MODELS['workers-ai'];
    this.#gateway = config.gateway;
    this.#describe = config.describe ?? ((model) => modelInfo('workers-ai', model));
  }

  contextWindow(model: string): number {
    return this.#describe(model).contextWindow;
  }

  /** The binding's inputs for a call; unset options are left out so each model keeps its own defaults. */
  inputs(request: GenerateRequest, model: string): Record<string, unknown> {
    const temperature = this.#describe(model).capabilities.temperature ? request.temperature : undefined;
    const inputs: Record<string, unknown> = {
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      max_tokens: request.maxTokens,
      temperature,
      stream: request.stream === true && !request.output ? true : undefined,
      response_format: request.output ? jsonMode(request.output) : undefined,
    };
    return Object.fromEntries(Object.entries(inputs).filter(([, value]) => value !== undefined));
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const ai = this.#ai;
    if (!ai) throw new ProviderError('workers-ai', 'not_configured', 'workers-ai: no AI binding', false);
    const { signal } = options;
    if (signal?.aborted) throw abortError('workers-ai', signal);
    const model = request.model ?? this.defaultModel;
    if (request.output) requireStructuredSupport('workers-ai', this.#describe(model), model);
    const context = modelContext('workers-ai', request.model, model);
    const runOptions = { ...(this.#gateway ? { gateway: { id: this.#gateway } } : {}), ...(signal ? { signal } : {}) };
    let result: unknown;
    try {
      result = await ai.run(model, this.inputs(request, model), Object.keys(runOptions).length > 0 ? runOptions : undefined);
    } catch (err) {
      throw runError(err, signal, context);
    }
    // A structured call was made whole (JSON mode does not stream); a streaming caller still gets its text.
    const streamed = request.stream === true && !request.output;
    const reply = await readOutput(result, streamed, options);
    if (request.stream === true && !streamed && reply.text) options.onToken?.(reply.text);
    const tokensOut = reply.usage?.completion_tokens ?? estimateTokens(reply.text);
    const reasoning = reply.usage?.completion_tokens_details?.reasoning_tokens;
    return {
      text: reply.text,
      provider: 'workers-ai',
      model,
      tokensIn: reply.usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut,
      ...(reasoning ? { tokensReasoning: reasoning } : {}),
      finishReason: finishReason(reply, tokensOut, request.maxTokens),
      ...(reply.finish ? { rawFinishReason: reply.finish } : {}),
      ...structuredFields(request.output, reply.text, request.output ? objectRoot(request.output.schema).wrapped : false),
    };
  }
}

/** JSON mode's `response_format`: the bare schema, titled with the output's name unless it has a title. */
function jsonMode(output: NonNullable<GenerateRequest['output']>) {
  const { schema } = objectRoot(output.schema);
  return { type: 'json_schema', json_schema: schema.title === undefined && output.name ? { ...schema, title: output.name } : schema };
}

function finishReason(reply: Reply, tokensOut: number, maxTokens: number | undefined): GenerateResult['finishReason'] {
  if (reply.finish === 'stop') return 'stop';
  if (reply.finish === 'length' || reply.finish === 'model_length') return 'length';
  if (reply.finish) return 'other';
  // The original family reports no finish reason. An answer that filled its whole budget was
  // almost certainly cut off; one that did not stopped on its own. Without usage we cannot tell.
  if (!reply.usage) return 'other';
  return tokensOut >= (maxTokens ?? MODEL_DEFAULT_MAX_TOKENS) ? 'length' : 'stop';
}

/** Reads whatever the binding resolved to, streamed or not, in either output family. */
async function readOutput(result: unknown, streamed: boolean, options: GenerateOptions): Promise<Reply> {
  if (result instanceof ReadableStream) {
    if (streamed) return readStream(result, options);
    // A non-JSON body: the binding hands over the bytes. JSON text is still one of the families.
    const text = await new Response(result).text().catch((err: unknown) => {
      throw new ProviderError('workers-ai', 'network', `workers-ai: could not read the output: ${String(err)}`, true);
    });
    return readOutput(jsonOr(text), false, options);
  }
  const reply = readWhole(result);
  // A model that cannot stream answers a streamed request whole: hand its text on as one chunk.
  if (streamed && reply.text) options.onToken?.(reply.text);
  return reply;
}

function jsonOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function readWhole(result: unknown): Reply {
  if (typeof result === 'string') return { text: result, usage: undefined, finish: undefined };
  const chat = ChatOutput.safeParse(result);
  if (chat.success) {
    const choice = chat.data.choices[0];
    return { text: choice?.message.content ?? '', usage: chat.data.usage, finish: choice?.finish_reason ?? undefined };
  }
  const native = NativeOutput.safeParse(result);
  if (native.success) {
    const { response } = native.data;
    const text = response === null ? '' : typeof response === 'object' ? JSON.stringify(response) : String(response);
    return { text, usage: native.data.usage, finish: undefined };
  }
  throw new ProviderError('workers-ai', 'invalid_response', `workers-ai: output in no known text format: ${shapeOf(result)}`, true);
}

/** What an unreadable output looked like, without its content: its type, or an object's first keys. */
function shapeOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value === null ? 'null' : typeof value);
  return Array.isArray(value) ? 'array' : `{${Object.keys(value).slice(0, 5).join(', ')}}`;
}

async function readStream(body: ReadableStream<Uint8Array>, { signal, onToken }: GenerateOptions): Promise<Reply> {
  const reply: Reply = { text: '', usage: undefined, finish: undefined };
  let done = false;
  for await (const { data } of providerSse('workers-ai', body, signal)) {
    if (data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parseJson('workers-ai', data, Chunk);
    if (chunk.error) {
      const message = typeof chunk.error === 'string' ? chunk.error : chunk.error.message;
      throw new ProviderError('workers-ai', 'server_error', `workers-ai: stream failed: ${message.slice(0, 200)}`, true);
    }
    const choice = chunk.choices?.[0];
    const delta = chunk.response ?? choice?.delta?.content;
    if (delta) {
      reply.text += delta;
      onToken?.(delta);
    }
    reply.finish = choice?.finish_reason ?? chunk.finish_reason ?? reply.finish;
    reply.usage = chunk.usage ?? reply.usage;
  }
  if (!done && !reply.finish) throw truncatedStream('workers-ai');
  return reply;
}

/**
 * Cloudflare's Workers AI error table (developers.cloudflare.com/workers-ai/platform/errors),
 * by internal code: the binding throws `InferenceUpstreamError("<code>: <description>")`.
 */
const CODES: Record<number, { code: ProviderError['code']; retryable: boolean; retryAfterMs?: number; advice?: string }> = {
  5007: { code: 'model_not_found', retryable: false }, // No such model
  3042: { code: 'model_not_found', retryable: false }, // Invalid model ID
  // The daily free allocation of neurons: it resets at 00:00 UTC, long after any retry.
  3036: { code: 'quota_exceeded', retryable: false, advice: 'the daily free allocation resets at 00:00 UTC; Workers Paid lifts it' },
  4006: { code: 'quota_exceeded', retryable: false, advice: 'the daily free allocation resets at 00:00 UTC; Workers Paid lifts it' },
  3040: { code: 'rate_limited', retryable: true, retryAfterMs: CAPACITY_RETRY_MS }, // Out of capacity
  3007: { code: 'timeout', retryable: true },
  3008: { code: 'timeout', retryable: true },
  5016: { code: 'auth', retryable: false, advice: "the account has not agreed to the model's terms" },
  5018: { code: 'auth', retryable: false },
  3041: { code: 'auth', retryable: false },
  3023: { code: 'auth', retryable: false },
  5004: { code: 'bad_request', retryable: false },
  3039: { code: 'bad_request', retryable: false },
  3003: { code: 'bad_request', retryable: false },
  5005: { code: 'bad_request', retryable: false },
  3006: { code: 'bad_request', retryable: false },
  5019: { code: 'bad_request', retryable: false },
};

/** The internal code of a binding error: a numeric `code`, else the first known `<code>:` in its message. */
export function workersAiCode(err: unknown): number | undefined {
  const own = err !== null && typeof err === 'object' && 'code' in err ? Number((err as { code: unknown }).code) : Number.NaN;
  if (own in CODES) return own;
  const message = err instanceof Error ? err.message : String(err);
  for (const match of message.matchAll(/\b(\d{4})\s*:/g)) if (Number(match[1]) in CODES) return Number(match[1]);
  return undefined;
}

function runError(err: unknown, signal: AbortSignal | undefined, context: ModelContext): ProviderError {
  if (signal?.aborted) return abortError('workers-ai', signal);
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 200);
  if (message.includes("JSON Mode couldn't be met")) {
    // The model could not produce JSON matching the schema this time; another attempt may.
    return new ProviderError('workers-ai', 'invalid_response', `workers-ai: the model could not meet the JSON schema: ${message}`, true);
  }
  if (message.includes('Binding AI needs to be run remotely')) {
    return new ProviderError('workers-ai', 'not_configured', 'workers-ai: the AI binding only runs on Cloudflare, not locally', false);
  }
  const known = CODES[workersAiCode(err) ?? -1];
  if (known?.code === 'model_not_found') return modelNotFound('workers-ai', undefined, message, context);
  if (known) {
    const advice = known.advice ? `; ${known.advice}` : '';
    return new ProviderError('workers-ai', known.code, `workers-ai: ${message}${advice}`, known.retryable, undefined, known.retryAfterMs);
  }
  // Upstream inference failures without a code in the table: one more attempt may help.
  return new ProviderError('workers-ai', 'server_error', `workers-ai: ${message}`, true);
}
