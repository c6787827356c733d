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

export type GenerateRequest = {
  messages: ChatMessage[];
  /** Provider-specific model id; each provider has a default. */
  model?: string | undefined;
  maxTokens?: number | undefined;
  temperature?: number | undefined;
  task?: GenerateTask | undefined;
  /** Ask the provider to stream; tokens are then delivered to `onToken` as they arrive. */
  stream?: boolean | undefined;
};

export type GenerateResult = {
  text: string;
  provider: ProviderName;
  model: string;
  tokensIn: number;
  tokensOut: number;
  finishReason: 'stop' | 'length' | 'other';
  /** True when served from the cache (src/cache, namespace `ai`) rather than by the provider. */
  cached?: boolean;
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
  | 'rate_limited'
  | 'timeout'
  | 'server_error'
  | 'network'
  | 'invalid_response'
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
  ) {
    super(message);
  }
}

/** Classifies an HTTP status from a provider: 408, 409, 429 and 5xx are worth retrying. */
export function errorForStatus(provider: ProviderName, status: number, detail: string): ProviderError {
  if (status === 401 || status === 403)
    return new ProviderError(provider, 'auth', `${provider}: authentication failed (${status}): ${detail}`, false, status);
  if (status === 429) return new ProviderError(provider, 'rate_limited', `${provider}: rate limited: ${detail}`, true, status);
  if (status === 408) return new ProviderError(provider, 'timeout', `${provider}: request timeout: ${detail}`, true, status);
  if (status === 409 || status >= 500)
    return new ProviderError(provider, 'server_error', `${provider}: server error (${status}): ${detail}`, true, status);
  return new ProviderError(provider, 'bad_request', `${provider}: request rejected (${status}): ${detail}`, false, status);
}

/** The fetch signature providers take, so tests can record the exact requests they send. */
export type Fetcher = (input: string, init: RequestInit) => Promise<Response>;
