import { z } from 'zod';
import { retryAfterFromHeaders } from '../lib/retry-after';
import { modelInfo } from './catalogue';
import { DEFAULT_MODELS } from './models';
import { ProviderError, type ProviderName } from './types';

/*
 * What a failed call means, in one place for every provider: a status and an error body become a
 * ProviderError that says whether another attempt can help and how long the provider asked us to
 * wait first. The providers' own advice wins over our guesses: `retry-after`/`retry-after-ms`
 * headers and Gemini's RetryInfo set the least delay, `x-should-retry` (OpenAI and Anthropic)
 * overrides the status, and a few error codes mean that no retry can help (quota used up, bad
 * key, a model that is not served).
 */

/** The model a call used and the setting that chose it, so a failure can name what to change. */
export type ModelContext = { model: string; setting: string };

const MODEL_SETTINGS: Record<ProviderName, string> = {
  local: 'the model',
  'workers-ai': 'WORKERS_AI_MODEL',
  openai: 'OPENAI_MODEL',
  anthropic: 'ANTHROPIC_MODEL',
  google: 'GOOGLE_MODEL',
};

/** A model given with the call came from the node or request; otherwise from the provider's variable. */
export const modelContext = (provider: ProviderName, requested: string | undefined, model: string): ModelContext => ({
  model,
  setting: requested ? "the node's or request's `model`" : MODEL_SETTINGS[provider],
});

/** Kept exported here for the AI adapters' callers; the parser itself lives in lib/ for every outbound caller. */
export { retryAfterFromHeaders };

/** A protobuf Duration in its JSON form (`"17s"`, `"0.250s"`), as Gemini's RetryInfo carries it. */
export function durationMs(value: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match ? Math.ceil(Number(match[1]) * 1000) : undefined;
}

// OpenAI `{error:{message,type,code}}`, Anthropic `{type:"error",error:{type,message,details:{error_code}}}`
// and Google `{error:{code,message,status,details:[{"@type",...}]}}` share the `error` envelope.
const Detail = z.looseObject({
  '@type': z.string().optional(),
  retryDelay: z.string().optional(),
  reason: z.string().optional(),
  error_code: z.string().optional(),
  violations: z.array(z.looseObject({ quotaId: z.string().optional() })).optional(),
});
const ErrorBody = z.object({
  error: z.looseObject({
    message: z.string().optional(),
    type: z.string().optional(),
    code: z.union([z.string(), z.number()]).nullish(),
    status: z.string().optional(),
    details: z.union([z.array(Detail), Detail]).optional(),
  }),
});

/** The parts of an error body that decide what it means. */
export type ErrorFacts = {
  detail: string;
  /** OpenAI `code`, Anthropic `details.error_code`, Google `status` … whichever the body has. */
  codes: string[];
  retryDelayMs?: number;
  quotaIds: string[];
};

export function errorFacts(text: string): ErrorFacts {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ErrorBody.safeParse(json);
  if (!parsed.success) return { detail: oneLine(text) || '(empty body)', codes: [], quotaIds: [] };
  const { message, type, code, status, details } = parsed.data.error;
  const list = details === undefined ? [] : Array.isArray(details) ? details : [details];
  const retryDelay = list.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const codes = [type, typeof code === 'string' ? code : undefined, status, ...list.flatMap((d) => [d.reason, d.error_code])];
  return {
    detail: oneLine(message ?? text) || '(empty body)',
    codes: codes.filter((c): c is string => typeof c === 'string' && c !== ''),
    ...(retryDelay && durationMs(retryDelay) !== undefined ? { retryDelayMs: durationMs(retryDelay) } : {}),
    quotaIds: list.flatMap((d) => (d.violations ?? []).map((v) => v.quotaId ?? '')).filter(Boolean),
  };
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 300);

const MODEL_MISSING = new Set(['model_not_found', 'not_found_error', 'NOT_FOUND']);
// OpenAI's insufficient_quota, Anthropic's billing_error and spend limits: money, not load.
const QUOTA = new Set(['insufficient_quota', 'billing_error', 'contract_spend_limit_reached', 'enforced_spend_limit_reached']);

/**
 * Classifies a non-2xx answer. `headers` carries retry-after and x-should-retry; `text` is the
 * body as received.
 */
export function httpError(provider: ProviderName, status: number, headers: Headers, text: string, context: ModelContext): ProviderError {
  const facts = errorFacts(text);
  const advice = Math.max(retryAfterFromHeaders(headers) ?? 0, facts.retryDelayMs ?? 0) || undefined;
  const has = (set: Set<string>) => facts.codes.some((c) => set.has(c));
  const { detail } = facts;

  if (status === 404 && (has(MODEL_MISSING) || detail.includes(context.model))) return modelNotFound(provider, status, detail, context);
  if (status === 402 || has(QUOTA) || dailyQuota(facts)) {
    return new ProviderError(
      provider,
      'quota_exceeded',
      `${provider}: quota exhausted (${status}): ${detail}; retrying cannot help until the plan or billing changes`,
      false,
      status,
    );
  }
  // A bad key is 401 at OpenAI and Anthropic, but 400 INVALID_ARGUMENT (reason API_KEY_INVALID) at Google.
  if (status === 401 || status === 403 || (status === 400 && facts.codes.includes('API_KEY_INVALID'))) {
    return new ProviderError(provider, 'auth', `${provider}: authentication failed (${status}): ${detail}`, false, status);
  }
  const error = byStatus(provider, status, detail, advice);
  // The provider's own verdict on retrying (OpenAI and Anthropic send it) overrides the status.
  const should = headers.get('x-should-retry');
  if (should !== 'true' && should !== 'false') return error;
  return new ProviderError(provider, error.code, error.message, should === 'true', status, error.retryAfterMs);
}

// A per-day quota resets hours from now: a retry within a run cannot succeed. Gemini names the
// exhausted quota; "limit: 0" means the model has no free-tier quota at all.
const dailyQuota = (facts: ErrorFacts) => facts.quotaIds.some((id) => /PerDay/i.test(id)) || /\blimit: 0\b/.test(facts.detail);

function byStatus(provider: ProviderName, status: number, detail: string, retryAfterMs: number | undefined): ProviderError {
  if (status === 429)
    return new ProviderError(provider, 'rate_limited', `${provider}: rate limited: ${detail}`, true, status, retryAfterMs);
  if (status === 408) return new ProviderError(provider, 'timeout', `${provider}: request timeout: ${detail}`, true, status, retryAfterMs);
  if (status === 409 || status >= 500) {
    return new ProviderError(provider, 'server_error', `${provider}: server error (${status}): ${detail}`, true, status, retryAfterMs);
  }
  return new ProviderError(provider, 'bad_request', `${provider}: request rejected (${status}): ${detail}`, false, status);
}

/** The provider says it does not serve the model: name the model and the setting to change. */
export function modelNotFound(provider: ProviderName, status: number | undefined, detail: string, context: ModelContext): ProviderError {
  const info = modelInfo(provider, context.model);
  const retired =
    info.status === 'retired'
      ? ` It was retired on ${info.retires}${info.replacement ? `; its replacement is ${info.replacement}` : ''}.`
      : '';
  return new ProviderError(
    provider,
    'model_not_found',
    `${provider}: model "${context.model}" not found (${detail}).${retired} Set ${context.setting} to a model the provider serves (default: ${DEFAULT_MODELS[provider]}).`,
    false,
    status,
  );
}

// Anthropic documents these statuses for the error types it can also send inside a 200 stream.
const ANTHROPIC_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** An error event inside a 200 stream has no status of its own: the documented status of its type stands in. */
export function streamedError(provider: ProviderName, type: string, message: string, context: ModelContext): ProviderError {
  const body = JSON.stringify({ error: { type, message } });
  return httpError(provider, ANTHROPIC_TYPE_STATUS[type] ?? 500, new Headers(), body, context);
}
