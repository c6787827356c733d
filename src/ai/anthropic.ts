import { z } from 'zod';
import {
  errorForStatus,
  estimateTokens,
  type AIProvider,
  type Fetcher,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
} from './types';
import { parseJson, postJson, providerSse, readJson, requireKey, truncatedStream, validate } from './sse';

/*
 * Anthropic Messages API (https://docs.anthropic.com/en/api/messages). Two wire facts shape the
 * request: `max_tokens` is required, and the system prompt is a top-level `system` string —
 * `messages` may only hold user and assistant turns.
 */

export type AnthropicConfig = {
  apiKey: string;
  /** Default 'claude-3-5-haiku-latest'. */
  defaultModel?: string;
  /** Default 'https://api.anthropic.com'. */
  baseUrl?: string;
};

const API_VERSION = '2023-06-01';
// The API rejects a request without max_tokens; this is the cap when the caller sets none.
const DEFAULT_MAX_TOKENS = 1024;

const Message = z.object({
  // Text blocks carry the answer; other block types (tool_use, thinking) are not ours to show.
  content: z.array(z.object({ type: z.string(), text: z.string().optional() })),
  stop_reason: z.string().nullable(),
  usage: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
});

// The streamed events we act on. `ping`, `content_block_start` and `content_block_stop` carry
// nothing we need, and Anthropic documents that new event types may appear, so unknown ones pass.
const StreamEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ usage: z.object({ input_tokens: z.number() }) }) }),
  z.object({ type: z.literal('content_block_delta'), delta: z.object({ type: z.string(), text: z.string().optional() }) }),
  // output_tokens here is cumulative for the whole message, not an increment.
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: z.string().nullable() }),
    usage: z.object({ output_tokens: z.number() }),
  }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) }),
]);
const HANDLED = new Set(['message_start', 'content_block_delta', 'message_delta', 'message_stop', 'error']);
const Envelope = z.looseObject({ type: z.string() });

// An error event arrives after the 200, so it has no status of its own; these are the statuses
// Anthropic documents for the same error types, which errorForStatus already knows how to classify.
const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

type Reply = { text: string; stop: string | null | undefined; tokensIn?: number; tokensOut?: number };

export class AnthropicProvider implements AIProvider {
  readonly name = 'anthropic';
  readonly defaultModel: string;
  // `#` fields stay out of JSON.stringify and console.log of the provider, so the key does too.
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #fetch: Fetcher;

  constructor(config: AnthropicConfig, fetch: Fetcher) {
    this.#apiKey = config.apiKey;
    this.#baseUrl = (config.baseUrl ?? 'https://api.anthropic.com').replace(/\/+$/, '');
    this.defaultModel = config.defaultModel ?? 'claude-3-5-haiku-latest';
    this.#fetch = fetch;
  }

  /** Every current Claude model has a 200k-token window. */
  contextWindow(model: string): number {
    return model.startsWith('claude-') ? 200_000 : 8_192;
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const apiKey = requireKey('anthropic', this.#apiKey);
    const model = request.model ?? this.defaultModel;
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const body = {
      model,
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      system: system.length > 0 ? system.join('\n\n') : undefined,
      messages: request.messages.flatMap(({ role, content }) => (role === 'system' ? [] : [{ role, content }])),
      temperature: request.temperature,
      stream: request.stream === true ? true : undefined,
    };
    const headers = { 'x-api-key': apiKey, 'anthropic-version': API_VERSION, 'content-type': 'application/json' };
    const res = await postJson('anthropic', this.#fetch, `${this.#baseUrl}/v1/messages`, headers, body, options.signal);
    const reply = request.stream === true ? await readStream(res, options) : await readMessage(res, options.signal);
    return {
      text: reply.text,
      provider: 'anthropic',
      model,
      tokensIn: reply.tokensIn ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut: reply.tokensOut ?? estimateTokens(reply.text),
      finishReason: finishReason(reply.stop),
    };
  }
}

function finishReason(stop: string | null | undefined): GenerateResult['finishReason'] {
  if (stop === 'end_turn' || stop === 'stop_sequence') return 'stop';
  if (stop === 'max_tokens') return 'length';
  return 'other';
}

async function readMessage(res: Response, signal: AbortSignal | undefined): Promise<Reply> {
  const message = await readJson('anthropic', res, Message, signal);
  const text = message.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
  return { text, stop: message.stop_reason, tokensIn: message.usage.input_tokens, tokensOut: message.usage.output_tokens };
}

async function readStream(res: Response, { signal, onToken }: GenerateOptions): Promise<Reply> {
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
        // Only text_delta carries answer text; input_json_delta and thinking_delta do not.
        if (event.delta.type === 'text_delta' && event.delta.text) {
          reply.text += event.delta.text;
          onToken?.(event.delta.text);
        }
        break;
      case 'message_delta':
        reply.stop = event.delta.stop_reason;
        reply.tokensOut = event.usage.output_tokens;
        break;
      case 'message_stop':
        done = true;
        break;
      case 'error':
        throw errorForStatus(
          'anthropic',
          ERROR_STATUS[event.error.type] ?? 500,
          `${event.error.type}: ${event.error.message.slice(0, 200)}`,
        );
    }
    if (done) break;
  }
  if (!done) throw truncatedStream('anthropic');
  return reply;
}
