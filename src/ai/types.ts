/**
 * The AI layer's one interface. Every provider — the offline `local` one and the network ones —
 * implements `AIProvider`; the chain engine and the /ai routes only ever see this interface.
 */
import type { ProviderName } from '../db/schema';

export { PROVIDERS, type ProviderName } from '../db/schema';
export { estimateTokens } from '../lib/tokens';

export type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * What a call is for. Network providers send the messages as they are; the local provider,
 * which is not a language model, uses it to choose its algorithm.
 */
export const TASKS = ['generate', 'summarize', 'title', 'continue'] as const;
export type GenerateTask = (typeof TASKS)[number];

/**
 * Structured output: ask for JSON matching a JSON Schema in the subset workflow definitions use
 * (src/engine/json-schema.ts: type, properties, required, items, enum, const, min/max lengths,
 * values and item counts, additionalProperties, description, title). Each provider sends it in its
 * native form (docs/api/ai.md, "Structured output"); a model the catalogue says cannot is refused.
 *
 * @example
 * await provider.generate({ messages, output: { name: 'outline', schema: { type: 'object',
 *   properties: { sections: { type: 'array', items: { type: 'string' } } }, required: ['sections'] } } });
 * // → { text: '{"sections":[…]}', json: { sections: […] }, … }
 */
export type StructuredOutput = {
  /** What the output is (a node id will do); OpenAI requires a name, sent as [a-zA-Z0-9_-]{1,64}. */
  name: string;
  schema: Record<string, unknown>;
};

export type GenerateRequest = {
  messages: ChatMessage[];
  /** Provider-specific model id; each provider has a default. */
  model?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  task?: GenerateTask | undefined;
  /** Ask the provider to stream; tokens are then delivered to `onToken` as they arrive. */
  stream?: boolean | undefined;
  /** Ask for JSON matching a schema; the answer then carries `json` or `jsonError`. */
  output?: StructuredOutput | undefined;
};

export type GenerateResult = {
  text: string;
  provider: ProviderName;
  model: string;
  tokensIn: number;
  /** Every output token billed, reasoning included (providers bill reasoning as output). */
  tokensOut: number;
  /** The part of `tokensOut` the model spent reasoning, when the provider reports it. */
  tokensReasoning?: number;
  finishReason: 'stop' | 'length' | 'other';
  /** The provider's own finish reason (`end_turn`, `MAX_TOKENS`, `content_filter` …), when it gave one. */
  rawFinishReason?: string;
  /** True when served from the cache (src/cache, namespace `ai`) rather than by the provider. */
  cached?: boolean;
  /**
   * With `output`: the answer's text parsed as JSON (`text` keeps the raw JSON text). Exactly one
   * of `json` and `jsonError` is present when `output` was asked for, neither otherwise. The JSON
   * is not checked against the schema here: the caller validates it (and may ask again).
   */
  json?: unknown;
  /** With `output`: why the text is not JSON (cut off, wrapped in prose …). Not a provider failure. */
  jsonError?: string;
};

export type GenerateOptions = {
  signal?: AbortSignal | undefined;
  /** Called with each text chunk when the provider streams. */
  onToken?: ((chunk: string) => void) | undefined;
  /** The request's `waitUntil`, when there is one: cache writes and counts then finish after the response. */
  waitUntil?: ((p: Promise<unknown>) => void) | undefined;
};

export interface AIProvider {
  readonly name: ProviderName;
  readonly defaultModel: string;
  /** Context window of a model in tokens, used to budget upstream documents. */
  contextWindow(model: string): number;
  generate(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateResult>;
}

export type ProviderErrorCode =
  | 'not_configured'
  | 'bad_request'
  | 'auth'
  | 'model_not_found'
  | 'quota_exceeded'
  | 'rate_limited'
  | 'timeout'
  | 'server_error'
  | 'network'
  | 'invalid_response'
  | 'empty_response'
  /** The provider cannot do what was asked (the local provider asked to translate, say). */
  | 'unsupported'
  | 'aborted';

/** A provider failure, classified so callers know whether another attempt can help. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly provider: ProviderName,
    readonly code: ProviderErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** The provider's advice (retry-after, RetryInfo): the least delay before another attempt. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** The fetch signature providers take, so tests can record the exact requests they send. */
export type Fetcher = (input: string, init: RequestInit) => Promise<Response>;
