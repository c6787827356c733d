import { z } from 'zod';
import { modelInfo, type ModelInfo } from './catalogue';
import { modelContext, streamedError, type ModelContext } from './errors';
import { DEFAULT_MODELS } from './models';
import { parseJson, postJson, providerSse, readJson, requireKey, truncatedStream, validate } from './sse';
import { anthropicSchema, objectRoot, requireStructuredSupport, structuredFields } from './structured';
import { estimateTokens, type AIProvider, type Fetcher, type GenerateOptions, type GenerateRequest, type GenerateResult } from './types';

/*
 * Anthropic Messages API (https://platform.claude.com/docs/en/api/messages), API version
 * 2026-10-21 — the version the official SDKs send since their 1.0 (TypeScript) releases. Wire
 * facts that shape the request:
 * - `max_tokens` is required, and the system prompt is a top-level `system` string: `messages`
 *   holds only user and assistant turns;
 * - this API version refuses `temperature`, `top_p` and `top_k` on every model (400, even at their
 *   default values), so a caller's temperature is sent only where the catalogue says the model
 *   accepts one — for Claude, never;
 * - the key goes in `Authorization: Bearer`, as the SDKs send it (the API still reads `x-api-key`).
 * Current models think adaptively: thinking blocks are not part of the answer, and their tokens
 * are inside `output_tokens` (reported separately in `output_tokens_details.thinking_tokens`).
 * Structured output uses the API's own structured outputs, `output_config.format` (what the
 * 1.17 SDK documents as current; the beta `output_format` is deprecated there), rather than a
 * forced tool call: the JSON then arrives as ordinary text blocks, whole or as text deltas.
 */

export type AnthropicConfig = {
  apiKey: string;
  /** Default: the catalogue's current Anthropic default. */
  defaultModel?: string;
  /** Default 'https://api.anthropic.com'. */
  baseUrl?: string;
  /** The catalogue's view of a model; default: the built-in catalogue, without AI_MODELS corrections. */
  describe?: (model: string) => ModelInfo;
};

export const ANTHROPIC_VERSION = '2026-10-21';
// The API rejects a request without max_tokens; this is the cap when the caller sets none. It
// includes thinking, which current models do by default, so it is not as small as a chat reply.
const DEFAULT_MAX_TOKENS = 4096;

const Usage = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number(),
  output_tokens_details: z.object({ thinking_tokens: z.number() }).nullish(),
});

const Message = z.object({
  // Text blocks carry the answer; other block types (thinking, tool_use) are not ours to show.
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable(),
  usage: Usage,
});

// The streamed events we act on. `ping`, `content_block_start` and `content_block_stop` carry
// nothing we need, and Anthropic documents that new event types may appear, so unknown ones pass.
const StreamEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ usage: z.object({ input_tokens: z.number() }) }) }),
  z.object({ type: z.literal('content_block_delta'), delta: z.object({ type: z.string(), text: z.string().optional() }) }),
  // output_tokens here is cumulative for the whole message, not an increment.
  z.object({ type: z.literal('message_delta'), delta: z.object({ stop_reason: z.string().nullable() }), usage: Usage }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) }),
]);
const HANDLED = new Set(['message_start', 'content_block_delta', 'message_delta', 'message_stop', 'error']);
const Envelope = z.looseObject({ type: z.string() });

type Reply = { text: string; stop: string | null | undefined; tokensIn?: number; tokensOut?: number; thinking?: number };

export class AnthropicProvider implements AIProvider {
  readonly name = 'anthropic';
  readonly defaultModel: string;
  // `#` fields stay out of JSON.stringify and console.log of the provider, so the key does too.
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #describe: (model: string) => ModelInfo;
  readonly #fetch: Fetcher;

  constructor(config: AnthropicConfig, fetch: Fetcher) {
    this.#apiKey = config.apiKey;
    this.#baseUrl = (config.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '');
    this.defaultModel = config.defaultModel ?? DEFAULT_MODELS.anthropic;
    this.#describe = config.describe ?? ((model) => modelInfo('anthropic', model));
    this.#fetch = fetch;
  }

  contextWindow(model: string): number {
    return this.#describe(model).contextWindow;
  }

  requestBody(request: GenerateRequest, model: string) {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    return {
      model,
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      system: system.length > 0 ? system.join('\n\n') : undefined,
      messages: request.messages.flatMap(({ role, content }) => (role === 'system' ? [] : [{ role, content }])),
      temperature: this.#describe(model).capabilities.temperature ? request.temperature : undefined,
      stream: request.stream === true ? true : undefined,
      output_config: request.output
        ? { format: { type: 'json_schema', schema: anthropicSchema(objectRoot(request.output.schema).schema) } }
        : undefined,
    };
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const apiKey = requireKey('anthropic', this.#apiKey);
    const model = request.model ?? this.defaultModel;
    if (request.output) requireStructuredSupport('anthropic', this.#describe(model), model);
    const context = modelContext('anthropic', request.model, model);
    const headers = { authorization: `Bearer ${apiKey}`, 'anthropic-version': ANTHROPIC_VERSION, 'content-type': 'application/json' };
    const url = `${this.#baseUrl}/v1/messages`;
    const res = await postJson('anthropic', this.#fetch, url, headers, this.requestBody(request, model), options.signal, context);
    const reply = request.stream === true ? await readStream(res, options, context) : await readMessage(res, options.signal);
    return {
      text: reply.text,
      provider: 'anthropic',
      model,
      tokensIn: reply.tokensIn ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut: reply.tokensOut ?? estimateTokens(reply.text),
      ...(reply.thinking ? { tokensReasoning: reply.thinking } : {}),
      finishReason: finishReason(reply.stop),
      ...(reply.stop ? { rawFinishReason: reply.stop } : {}),
      ...structuredFields(request.output, reply.text, request.output ? objectRoot(request.output.schema).wrapped : false),
    };
  }
}

function finishReason(stop: string | null | undefined): GenerateResult['finishReason'] {
  if (stop === 'end_turn' || stop === 'stop_sequence') return 'stop';
  if (stop === 'max_tokens' || stop === 'model_context_window_exceeded') return 'length';
  return 'other';
}

async function readMessage(res: Response, signal: AbortSignal | undefined): Promise<Reply> {
  const message = await readJson('anthropic', res, Message, signal);
  const text = message.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
  return {
    text,
    stop: message.stop_reason,
    ...(typeof message.usage.input_tokens === 'number' ? { tokensIn: message.usage.input_tokens } : {}),
    tokensOut: message.usage.output_tokens,
    ...(message.usage.output_tokens_details ? { thinking: message.usage.output_tokens_details.thinking_tokens } : {}),
  };
}

async function readStream(res: Response, { signal, onToken }: GenerateOptions, context: ModelContext): Promise<Reply> {
  const reply: Reply = { text: '', stop: undefined };
  let done = false;
  // Every event's data repeats its name in `type`, so the SSE `event:` line adds nothing here.
  for await (const { data } of providerSse('anthropic', res.body, signal)) {
    const envelope = parseJson('anthropic', data, Envelope);
    if (!HANDLED.has(envelope.type)) continue;
    const event = validate('anthropic', envelope, StreamEvent);
    switch (event.type) {
      case 'message_start':
        reply.tokensIn = event.message.usage.input_tokens;
        break;
      case 'content_block_delta':
        // Only text_delta carries answer text; thinking_delta and input_json_delta do not.
        if (event.delta.type === 'text_delta' && event.delta.text) {
          reply.text += event.delta.text;
          onToken?.(event.delta.text);
        }
        break;
      case 'message_delta':
        reply.stop = event.delta.stop_reason;
        reply.tokensOut = event.usage.output_tokens;
        if (event.usage.output_tokens_details) reply.thinking = event.usage.output_tokens_details.thinking_tokens;
        break;
      case 'message_stop':
        done = true;
        break;
      case 'error':
        throw streamedError('anthropic', event.error.type, event.error.message, context);
    }
    if (done) break;
  }
  if (!done) throw truncatedStream('anthropic');
  return reply;
}
