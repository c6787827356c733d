import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createWorkersAI } from 'workers-ai-provider';
import { type Adapters, binding, KEY, loadAdapters, recorder, request, wire } from './ai-contract-kit.ts';
import { ANSWER, anthropic, conversation, google, openai, workersAi } from './ai-fixtures.ts';

/*
 * Contract tests: each adapter in src/ai against the provider's official SDK (pinned in
 * package.json, used only here). For one logical request the adapter must send what the SDK sends
 * (same URL, auth, version header and JSON body), and both must read the same recorded answers —
 * whole, streamed, failed — to the same text, token usage and finish reason. Workers AI is not
 * HTTP: its reference is Cloudflare's AI SDK provider (workers-ai-provider) driving a fake binding.
 * Where this layer deliberately decides differently from an SDK (no retry for quota or a missing
 * model) the test says so and checks both sides. Structured output has its own file
 * (ai-contracts-structured.test.ts); the shared plumbing is in ai-contract-kit.ts.
 */

type Failure = Error & { code: string; retryable: boolean; status?: number; retryAfterMs?: number };

let src: Adapters;
beforeAll(async () => {
  src = await loadAdapters();
});
afterEach(() => vi.restoreAllMocks());

async function failureOf(promise: Promise<unknown>): Promise<Failure> {
  const err = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  if (!(err instanceof Error) || !('code' in err)) throw err;
  return err as Failure;
}

// The SDKs wait between retries with setTimeout: record each wait instead of sleeping through it.
// Their request deadline is also a setTimeout; it is told apart by its value and left alone.
const SDK_TIMEOUT = 123_457;
function recordWaits() {
  const waits: number[] = [];
  const real = globalThis.setTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    if (ms === SDK_TIMEOUT) return real(fn, ms);
    waits.push(ms ?? 0);
    queueMicrotask(fn);
    return real(() => {}, 0);
  }) as typeof setTimeout);
  return waits;
}

describe('OpenAI adapter = openai SDK', () => {
  const sdk = (fetch: typeof globalThis.fetch, maxRetries = 0) => new OpenAI({ apiKey: KEY, fetch, maxRetries, timeout: SDK_TIMEOUT });
  const messages = request.messages;

  it('sends the request the SDK builds: max_completion_tokens, no temperature for a reasoning model', async () => {
    const ours = recorder(openai.completion, openai.completion);
    const theirs = recorder(openai.completion, openai.completion);
    await new src.OpenAIProvider({ apiKey: KEY }, ours.fetch).generate(request);
    await sdk(theirs.fetch).chat.completions.create({ model: 'gpt-6-luna', messages, max_completion_tokens: 64 });
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
    // A model that takes sampling parameters gets the caller's temperature, as the SDK sends it.
    await new src.OpenAIProvider({ apiKey: KEY }, ours.fetch).generate({ ...request, model: 'gpt-4o-mini' });
    await sdk(theirs.fetch).chat.completions.create({ model: 'gpt-4o-mini', messages, max_completion_tokens: 64, temperature: 0.2 });
    expect(wire(ours.sent[1])).toEqual(wire(theirs.sent[1]));
  });

  it('reads a whole answer as the SDK does: text, usage with reasoning, finish reason', async () => {
    const ours = await new src.OpenAIProvider({ apiKey: KEY }, recorder(openai.completion).fetch).generate(request);
    const theirs = await sdk(recorder(openai.completion).fetch).chat.completions.create({
      model: 'gpt-6-luna',
      messages,
      max_completion_tokens: 64,
    });
    expect(ours.text).toBe(theirs.choices[0]?.message.content);
    expect([ours.tokensIn, ours.tokensOut, ours.tokensReasoning]).toEqual([
      theirs.usage?.prompt_tokens,
      theirs.usage?.completion_tokens,
      theirs.usage?.completion_tokens_details?.reasoning_tokens,
    ]);
    expect(ours.rawFinishReason).toBe(theirs.choices[0]?.finish_reason);
    expect(ours.text).toBe(ANSWER);
  });

  it('sends and reads a stream as the SDK does', async () => {
    const ours = recorder(openai.stream);
    const theirs = recorder(openai.stream);
    const result = await new src.OpenAIProvider({ apiKey: KEY }, ours.fetch).generate({ ...request, stream: true });
    const stream = await sdk(theirs.fetch).chat.completions.create({
      model: 'gpt-6-luna',
      messages,
      max_completion_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
    expect([result.text, result.tokensIn, result.tokensOut, result.tokensReasoning, result.rawFinishReason]).toEqual([
      text,
      usage?.prompt_tokens,
      usage?.completion_tokens,
      usage?.completion_tokens_details?.reasoning_tokens,
      finish,
    ]);
  });

  it('waits after a 429 as long as retry-after says, as the SDK does', async () => {
    const waits = recordWaits();
    await sdk(recorder(openai.rateLimited, openai.completion).fetch, 1).chat.completions.create({ model: 'gpt-6-luna', messages });
    const err = await failureOf(new src.OpenAIProvider({ apiKey: KEY }, recorder(openai.rateLimited).fetch).generate(request));
    expect(waits).toEqual([1000]);
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: waits[0] });
  });

  it.each([
    ['insufficient_quota', openai.quota, 429, 'insufficient_quota', 'quota_exceeded'],
    ['a model it does not serve', openai.missingModel, 404, 'model_not_found', 'model_not_found'],
    ['a bad key', openai.badKey, 401, 'invalid_api_key', 'auth'],
  ])('classifies %s as the SDK reports it, and does not retry it', async (_, answer, status, sdkCode, code) => {
    const sdkErr = await sdk(recorder(answer).fetch)
      .chat.completions.create({ model: 'gpt-6-luna', messages })
      .catch((e: unknown) => e);
    expect(sdkErr).toBeInstanceOf(OpenAI.APIError);
    expect(sdkErr).toMatchObject({ status, code: sdkCode });
    const err = await failureOf(new src.OpenAIProvider({ apiKey: KEY }, recorder(answer).fetch).generate(request));
    // The SDK retries every 429; no retry can end a used-up quota, so this layer does not.
    expect(err).toMatchObject({ code, retryable: false, status });
  });
});

describe('Anthropic adapter = @anthropic-ai/sdk', () => {
  const sdk = (fetch: typeof globalThis.fetch, maxRetries = 0) => new Anthropic({ apiKey: KEY, fetch, maxRetries, timeout: SDK_TIMEOUT });
  const params = { model: 'claude-haiku-5-5', max_tokens: 64, system: conversation.system, messages: conversation.turns };

  it('sends the request the SDK builds: API version 2026-10-21, Bearer key, no sampling parameters', async () => {
    const ours = recorder(anthropic.message);
    const theirs = recorder(anthropic.message);
    await new src.AnthropicProvider({ apiKey: KEY }, ours.fetch).generate(request);
    await sdk(theirs.fetch).messages.create(params);
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
    expect(wire(ours.sent[0]).headers).toMatchObject({ 'anthropic-version': '2026-10-21', authorization: `Bearer ${KEY}` });
  });

  it('reads a whole answer as the SDK does, thinking left out of the text and counted in the usage', async () => {
    const ours = await new src.AnthropicProvider({ apiKey: KEY }, recorder(anthropic.message).fetch).generate(request);
    const theirs = await sdk(recorder(anthropic.message).fetch).messages.create(params);
    const text = theirs.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    expect(ours.text).toBe(text);
    expect([ours.tokensIn, ours.tokensOut, ours.tokensReasoning, ours.rawFinishReason]).toEqual([
      theirs.usage.input_tokens,
      theirs.usage.output_tokens,
      theirs.usage.output_tokens_details?.thinking_tokens,
      theirs.stop_reason,
    ]);
  });

  it('sends and reads a stream as the SDK does', async () => {
    const ours = recorder(anthropic.stream);
    const theirs = recorder(anthropic.stream);
    const result = await new src.AnthropicProvider({ apiKey: KEY }, ours.fetch).generate({ ...request, stream: true });
    const final = await sdk(theirs.fetch).messages.stream(params).finalMessage();
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
    const text = final.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    expect([result.text, result.tokensIn, result.tokensOut, result.tokensReasoning, result.rawFinishReason]).toEqual([
      text,
      final.usage.input_tokens,
      final.usage.output_tokens,
      final.usage.output_tokens_details?.thinking_tokens,
      final.stop_reason,
    ]);
    expect(result.text).toBe(ANSWER);
  });

  it('waits after a 429 as long as retry-after says, as the SDK does', async () => {
    const waits = recordWaits();
    await sdk(recorder(anthropic.rateLimited, anthropic.message).fetch, 1).messages.create(params);
    const err = await failureOf(new src.AnthropicProvider({ apiKey: KEY }, recorder(anthropic.rateLimited).fetch).generate(request));
    expect(waits).toEqual([1000]);
    expect(err).toMatchObject({ code: 'rate_limited', retryable: true, retryAfterMs: waits[0] });
  });

  it.each([
    ['billing_error', anthropic.quota, 402, 'billing_error', 'quota_exceeded'],
    ['a model it does not serve', anthropic.missingModel, 404, 'not_found_error', 'model_not_found'],
    ['a bad key', anthropic.badKey, 401, 'authentication_error', 'auth'],
  ])('classifies %s as the SDK reports it, and does not retry it', async (_, answer, status, type, code) => {
    const sdkErr = await sdk(recorder(answer).fetch)
      .messages.create(params)
      .catch((e: unknown) => e);
    expect(sdkErr).toBeInstanceOf(Anthropic.APIError);
    expect(sdkErr).toMatchObject({ status, error: { error: { type } } });
    const err = await failureOf(new src.AnthropicProvider({ apiKey: KEY }, recorder(answer).fetch).generate(request));
    expect(err).toMatchObject({ code, retryable: false, status });
  });
});

describe('Gemini adapter = @google/genai', () => {
  const sdk = (fetch: typeof globalThis.fetch) => new GoogleGenAI({ apiKey: KEY, httpOptions: { fetch } });
  const params = {
    model: 'gemini-3.8-flash',
    contents: conversation.turns.map((t) => ({ role: t.role === 'assistant' ? 'model' : 'user', parts: [{ text: t.content }] })),
    config: { systemInstruction: conversation.system, maxOutputTokens: 64, temperature: 0.2 },
  };

  it('sends the request the SDK builds', async () => {
    const ours = recorder(google.response);
    const theirs = recorder(google.response);
    await new src.GoogleProvider({ apiKey: KEY }, ours.fetch).generate(request);
    await sdk(theirs.fetch).models.generateContent(params);
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
  });

  it('reads a whole answer as the SDK does; thinking tokens are output tokens too', async () => {
    const ours = await new src.GoogleProvider({ apiKey: KEY }, recorder(google.response).fetch).generate(request);
    const theirs = await sdk(recorder(google.response).fetch).models.generateContent(params);
    const usage = theirs.usageMetadata;
    expect(ours.text).toBe(theirs.text);
    expect([ours.tokensIn, ours.tokensOut, ours.tokensReasoning, ours.rawFinishReason]).toEqual([
      usage?.promptTokenCount,
      (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
      usage?.thoughtsTokenCount,
      theirs.candidates?.[0]?.finishReason,
    ]);
  });

  it('sends and reads a stream as the SDK does', async () => {
    const ours = recorder(google.stream);
    const theirs = recorder(google.stream);
    const result = await new src.GoogleProvider({ apiKey: KEY }, ours.fetch).generate({ ...request, stream: true });
    let text = '';
    let last: Awaited<ReturnType<GoogleGenAI['models']['generateContent']>> | undefined;
    for await (const chunk of await sdk(theirs.fetch).models.generateContentStream(params)) {
      text += chunk.text ?? '';
      last = chunk;
    }
    expect(wire(ours.sent[0])).toEqual(wire(theirs.sent[0]));
    const usage = last?.usageMetadata;
    expect([result.text, result.tokensIn, result.tokensOut, result.tokensReasoning, result.rawFinishReason]).toEqual([
      text,
      usage?.promptTokenCount,
      (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
      usage?.thoughtsTokenCount,
      last?.candidates?.[0]?.finishReason,
    ]);
  });

  it.each([
    // The SDK surfaces the status only; RetryInfo's delay and the quota's period are read here.
    ['a per-minute limit with RetryInfo', google.rateLimited, 429, { code: 'rate_limited', retryable: true, retryAfterMs: 1000 }],
    ['a used-up daily quota', google.quota, 429, { code: 'quota_exceeded', retryable: false }],
    ['a model it does not serve', google.missingModel, 404, { code: 'model_not_found', retryable: false }],
    ['a bad key', google.badKey, 400, { code: 'auth', retryable: false }],
  ])('classifies %s', async (_, answer, status, classified) => {
    const sdkErr = await sdk(recorder(answer).fetch)
      .models.generateContent(params)
      .catch((e: unknown) => e);
    expect(sdkErr).toMatchObject({ name: 'ApiError', status });
    const err = await failureOf(new src.GoogleProvider({ apiKey: KEY }, recorder(answer).fetch).generate(request));
    expect(err).toMatchObject({ ...classified, status });
  });
});

describe('Workers AI adapter = workers-ai-provider (Cloudflare’s AI SDK provider)', () => {
  const MODEL = '@cf/zai-org/glm-4.7-flash';
  const call = { system: conversation.system, messages: conversation.turns, maxOutputTokens: 64, temperature: 0.2, maxRetries: 0 };
  const upstream = (message: string) => Object.assign(new Error(message), { name: 'InferenceUpstreamError' });

  it.each([
    ['{ response }', workersAi.native],
    ['ChatCompletionsOutput', workersAi.chat],
  ])('calls the binding as the provider does, and reads %s to the same text and usage', async (_, output) => {
    const ours = binding(output);
    const theirs = binding(output);
    const result = await new src.WorkersAIProvider(ours.ai, { defaultModel: MODEL, gateway: 'docs-gw' }).generate(request);
    const reference = await generateText({
      model: createWorkersAI({ binding: theirs.ai as never, gateway: { id: 'docs-gw' } })(MODEL),
      ...call,
    });
    expect(ours.runs).toEqual(theirs.runs);
    expect([result.text, result.tokensIn, result.tokensOut]).toEqual([
      reference.text,
      reference.usage.inputTokens,
      reference.usage.outputTokens,
    ]);
    expect(result.text).toBe(ANSWER);
  });

  it('reads the finish reason ChatCompletionsOutput gives', async () => {
    const result = await new src.WorkersAIProvider(binding(workersAi.chat).ai, { defaultModel: MODEL }).generate(request);
    const reference = await generateText({ model: createWorkersAI({ binding: binding(workersAi.chat).ai as never })(MODEL), ...call });
    expect([result.finishReason, result.rawFinishReason]).toEqual([reference.finishReason, reference.rawFinishReason]);
  });

  it.each([
    ['{ response } events', workersAi.nativeStream],
    ['OpenAI-style chunks', workersAi.chatStream],
  ])('streams %s to the same text and usage as the provider', async (_, stream) => {
    const ours = binding(stream);
    const theirs = binding(stream);
    const tokens: string[] = [];
    const result = await new src.WorkersAIProvider(ours.ai, { defaultModel: MODEL }).generate(
      { ...request, stream: true },
      { onToken: (t) => tokens.push(t) },
    );
    const reference = streamText({ model: createWorkersAI({ binding: theirs.ai as never })(MODEL), ...call });
    const [text, usage] = await Promise.all([reference.text, reference.usage]);
    expect(ours.runs).toEqual(theirs.runs);
    expect([result.text, result.tokensIn, result.tokensOut]).toEqual([text, usage.inputTokens, usage.outputTokens]);
    expect(tokens.join('')).toBe(ANSWER);
    if (stream === workersAi.chatStream) expect(result.finishReason).toBe(await reference.finishReason);
  });

  it.each([
    ['5007 No such model', workersAi.errors.missingModel, 400, { code: 'model_not_found', retryable: false }],
    ['3040 out of capacity', workersAi.errors.capacity, 429, { code: 'rate_limited', retryable: true, retryAfterMs: 5000 }],
    // The provider maps 3036 to 429 and so retries it; the daily allocation resets at 00:00 UTC, so this layer does not.
    ['3036 daily allocation', workersAi.errors.dailyAllocation, 429, { code: 'quota_exceeded', retryable: false }],
  ])('classifies %s by the code the provider maps', async (_, message, status, classified) => {
    const reference = await generateText({
      model: createWorkersAI({ binding: binding(upstream(message)).ai as never })(MODEL),
      ...call,
    }).catch((e: unknown) => e);
    expect(reference).toMatchObject({ statusCode: status });
    const err = await failureOf(new src.WorkersAIProvider(binding(upstream(message)).ai, { defaultModel: MODEL }).generate(request));
    expect(err).toMatchObject(classified);
  });
});
