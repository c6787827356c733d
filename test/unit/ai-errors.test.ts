import { describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../src/ai/anthropic';
import { durationMs, httpError, retryAfterFromHeaders } from '../../src/ai/errors';
import { GoogleProvider } from '../../src/ai/google';
import { OpenAIProvider } from '../../src/ai/openai';
import { type AiEnv, generateWithChain } from '../../src/ai/registry';
import type { AIProvider, Fetcher } from '../../src/ai/types';
import { failure, fakeFetch, json, request } from './ai-wire';

/*
 * Failures that carry the provider's advice: how long to wait, and whether waiting can help at
 * all. Bodies are the providers' documented error envelopes.
 */

const context = { model: 'gpt-6-luna', setting: 'OPENAI_MODEL' };

describe('retry advice', () => {
  it('reads retry-after in seconds or as an HTTP date, and retry-after-ms before either', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '1' }), now)).toBe(1000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '0.25' }), now)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'Mon, 07 Dec 2026 12:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '9', 'retry-after-ms': '1500' }), now)).toBe(1500);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect([durationMs('17s'), durationMs('0.250s'), durationMs('1m')]).toEqual([17_000, 250, undefined]);
  });

  it('makes a 429 with retry-after a rate limit whose next attempt waits at least that long', () => {
    const body = JSON.stringify({ error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } });
    const err = httpError('openai', 429, new Headers({ 'retry-after': '1' }), body, context);
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 1000, status: 429 });
  });

  it("takes Gemini's RetryInfo delay from the error details", () => {
    const body = JSON.stringify({
      error: {
        code: 429,
        message: 'You exceeded your current quota, please check your plan and billing details.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' },
        ],
      },
    });
    expect(httpError('google', 429, new Headers(), body, context)).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 17_000,
    });
  });

  it('lets x-should-retry overrule the status, as the OpenAI and Anthropic SDKs do', () => {
    const body = JSON.stringify({ error: { message: 'Conflict' } });
    expect(httpError('anthropic', 409, new Headers({ 'x-should-retry': 'false' }), body, context)).toMatchObject({ retryable: false });
    expect(httpError('anthropic', 400, new Headers({ 'x-should-retry': 'true' }), body, context)).toMatchObject({ retryable: true });
  });
});

describe('failures no retry can help', () => {
  it.each([
    [
      'OpenAI insufficient_quota',
      'openai',
      429,
      { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' } },
    ],
    [
      'Anthropic billing_error',
      'anthropic',
      402,
      { type: 'error', error: { type: 'billing_error', message: 'Your credit balance is too low.' } },
    ],
    [
      'an Anthropic spend limit',
      'anthropic',
      429,
      {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Spend limit reached.', details: { error_code: 'enforced_spend_limit_reached' } },
      },
    ],
    [
      'a Gemini daily quota',
      'google',
      429,
      {
        error: {
          code: 429,
          message: 'Quota exceeded.',
          status: 'RESOURCE_EXHAUSTED',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
            },
          ],
        },
      },
    ],
  ] as const)('%s is quota_exceeded, not retried', (_, provider, status, body) => {
    const err = httpError(provider, status, new Headers({ 'retry-after': '20' }), JSON.stringify(body), context);
    expect(err).toMatchObject({ code: 'quota_exceeded', retryable: false, status });
  });

  it('an invalid key is auth, not retried: 401, or Gemini’s 400 API_KEY_INVALID', () => {
    const gemini = {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
      },
    };
    expect(httpError('google', 400, new Headers(), JSON.stringify(gemini), context)).toMatchObject({ code: 'auth', retryable: false });
    const openai = { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' } };
    expect(httpError('openai', 401, new Headers(), JSON.stringify(openai), context)).toMatchObject({ code: 'auth', retryable: false });
  });

  it.each([
    [
      'openai',
      (fetch: Fetcher): AIProvider => new OpenAIProvider({ apiKey: 'k', defaultModel: 'gpt-4o-mini-old' }, fetch),
      {
        error: {
          message: 'The model `gpt-4o-mini-old` does not exist or you do not have access to it.',
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      },
      'OPENAI_MODEL',
    ],
    [
      'anthropic',
      (fetch: Fetcher): AIProvider => new AnthropicProvider({ apiKey: 'k', defaultModel: 'claude-3-5-haiku-latest' }, fetch),
      { type: 'error', error: { type: 'not_found_error', message: 'model: claude-3-5-haiku-latest' } },
      'ANTHROPIC_MODEL',
    ],
    [
      'google',
      (fetch: Fetcher): AIProvider => new GoogleProvider({ apiKey: 'k', defaultModel: 'gemini-2.0-flash' }, fetch),
      { error: { code: 404, message: 'models/gemini-2.0-flash is not found for API version v1beta', status: 'NOT_FOUND' } },
      'GOOGLE_MODEL',
    ],
  ] as const)('a %s 404 for the model is model_not_found, naming the model and the setting to change', async (_, make, body, setting) => {
    const provider = make(fakeFetch(json(body, 404)).fetch);
    const err = await failure(provider.generate(request));
    expect(err).toMatchObject({ code: 'model_not_found', retryable: false, status: 404 });
    expect(err.message).toContain(`"${provider.defaultModel}"`);
    expect(err.message).toContain(setting);
  });
});

describe('generateWithChain', () => {
  const env = { OPENAI_API_KEY: 'k', LOG_LEVEL: 'silent' } as unknown as AiEnv;
  const reply = (content: string, finish = 'stop', completion = 5) =>
    json({ choices: [{ message: { content }, finish_reason: finish }], usage: { prompt_tokens: 10, completion_tokens: completion } });

  it('asks once more after an empty answer, counting both calls’ tokens', async () => {
    const { fetch, calls } = fakeFetch(reply('', 'length', 64), reply('Now with text.'));
    const result = await generateWithChain(env, ['openai'], request, {}, fetch);
    expect(calls).toHaveLength(2);
    expect(result).toMatchObject({ text: 'Now with text.', tokensIn: 20, tokensOut: 69 });
  });

  it('never succeeds empty: a second empty answer fails for good with the raw finish reason', async () => {
    const { fetch } = fakeFetch(reply('   ', 'length', 64), reply('', 'length', 64));
    const err = await failure(generateWithChain(env, ['openai'], request, {}, fetch));
    expect(err).toMatchObject({ provider: 'openai', code: 'empty_response', retryable: false });
    expect(err.message).toContain('finish reason length');
  });

  it('carries the provider’s retry advice through the chain', async () => {
    const limited = () => json({ error: { message: 'slow down', code: 'rate_limit_exceeded' } }, 429, { 'retry-after': '2' });
    const err = await failure(generateWithChain(env, ['openai'], request, {}, fakeFetch(limited()).fetch));
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: 2000 });
    // A provider that failed without advice may succeed at once: no minimum delay then.
    const both = fakeFetch(limited(), json({ error: { message: 'down' } }, 503)).fetch;
    const mixed = await failure(generateWithChain({ ...env, ANTHROPIC_API_KEY: 'k' } as AiEnv, ['openai', 'anthropic'], request, {}, both));
    expect(mixed).toMatchObject({ retryable: true, retryAfterMs: undefined });
  });
});
