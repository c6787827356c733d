import { describe, expect, it } from 'vitest';
import { WorkersAIProvider } from '../../src/ai/workers-ai';
import { chunked, collect, failure, fakeAi, request } from './ai-wire';

/*
 * Workers AI through a fake `env.AI` binding. Outputs are in the shapes the binding passes
 * through: the original `{ response }` family, OpenAI's ChatCompletionsOutput, their two SSE
 * streams, a plain string, and a non-JSON body handed over as bytes.
 */

const DEFAULT = '@cf/google/gemma-4-26b-a4b-it';
const usage = { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 };

// The original family: `{ response }`. Each streamed event is padded with a random-length `p`
// field, which hides token lengths from on-path observers.
const native = { response: 'A cat sat on a mat.', tool_calls: [], usage };
const nativeStream = [
  'data: {"response":"A","p":"abdefgh"}\n\n',
  'data: {"response":" cat sat","p":"ab"}\n\n',
  'data: {"response":" on a mat.","p":"abcdefghijklmn"}\n\n',
  'data: {"response":"","usage":{"prompt_tokens":40,"completion_tokens":64,"total_tokens":104}}\n\n',
  'data: [DONE]\n\n',
].join('');

// ChatCompletionsOutput, as @cf/zai-org/glm-4.7-flash answers (reasoning in its own field).
const completion = {
  id: 'chatcmpl-1f4c',
  object: 'chat.completion',
  created: 1764000000,
  model: '@cf/zai-org/glm-4.7-flash',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'A cat sat on a mat.', reasoning_content: 'Short is best.' },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 40, completion_tokens: 31, total_tokens: 71, completion_tokens_details: { reasoning_tokens: 22 } },
};
const head = '{"id":"chatcmpl-1f4c","object":"chat.completion.chunk","created":1764000000,"model":"@cf/zai-org/glm-4.7-flash"';
const chatStream = [
  `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Short"},"finish_reason":null}]}\n\n`,
  `data: ${head},"choices":[{"index":0,"delta":{"content":"A cat"},"finish_reason":null}]}\n\n`,
  `data: ${head},"choices":[{"index":0,"delta":{"content":" sat on a m\u00e4t."},"finish_reason":null}]}\n\n`,
  // Cloudflare reports finish_reason only on the usage chunk, as OpenAI does.
  `data: ${head},"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":31,"total_tokens":71,"completion_tokens_details":{"reasoning_tokens":22}}}\n\n`,
  'data: [DONE]\n\n',
].join('');

describe('WorkersAIProvider requests', () => {
  it('calls the binding with the messages and options as the model expects', async () => {
    const { ai, calls } = fakeAi(native);
    await new WorkersAIProvider(ai).generate(request);
    expect(calls).toEqual([[DEFAULT, { messages: request.messages, max_tokens: 64, temperature: 0.2 }, undefined]]);
  });

  it('routes through an AI Gateway when one is configured, beside the signal', async () => {
    const { ai, calls } = fakeAi(native);
    const signal = new AbortController().signal;
    await new WorkersAIProvider(ai, { gateway: 'docs-gateway' }).generate(request, { signal });
    expect(calls[0]?.[2]).toEqual({ gateway: { id: 'docs-gateway' }, signal });
  });
});

describe('WorkersAIProvider output families', () => {
  it('reads { response }, estimating usage when the model reports none', async () => {
    const result = await new WorkersAIProvider(fakeAi(native).ai).generate(request);
    expect(result).toEqual({
      text: 'A cat sat on a mat.',
      provider: 'workers-ai',
      model: DEFAULT,
      tokensIn: 40,
      tokensOut: 9,
      finishReason: 'stop',
    });
    const bare = await new WorkersAIProvider(fakeAi({ response: 'A cat sat on a mat.' }).ai).generate(request);
    expect(bare).toMatchObject({ tokensOut: 5, finishReason: 'other' });
  });

  it('passes a JSON-mode { response } object on as JSON text', async () => {
    const result = await new WorkersAIProvider(fakeAi({ response: { title: 'Cats', words: 5 }, usage }).ai).generate(request);
    expect(result.text).toBe('{"title":"Cats","words":5}');
  });

  it('reads ChatCompletionsOutput: the message content (not the reasoning), its usage and finish reason', async () => {
    const result = await new WorkersAIProvider(fakeAi(completion).ai).generate(request);
    expect(result).toEqual({
      text: 'A cat sat on a mat.',
      provider: 'workers-ai',
      model: DEFAULT,
      tokensIn: 40,
      tokensOut: 31,
      tokensReasoning: 22,
      finishReason: 'stop',
      rawFinishReason: 'stop',
    });
  });

  it('reads a plain string, and a non-JSON body the binding hands over as bytes', async () => {
    const plain = await new WorkersAIProvider(fakeAi('A cat sat on a mat.').ai).generate(request);
    expect(plain).toMatchObject({ text: 'A cat sat on a mat.', tokensOut: 5, finishReason: 'other' });
    const bytes = await new WorkersAIProvider(fakeAi(chunked('A cat sat on a mat.', 4)).ai).generate(request);
    expect(bytes.text).toBe('A cat sat on a mat.');
    const jsonBytes = await new WorkersAIProvider(fakeAi(chunked(JSON.stringify(completion), 7)).ai).generate(request);
    expect(jsonBytes).toMatchObject({ text: 'A cat sat on a mat.', tokensOut: 31 });
  });

  it('streams the { response } SSE events; a reply that used its whole budget was cut off', async () => {
    const { ai, calls } = fakeAi(chunked(nativeStream, 6));
    const { tokens, onToken } = collect();
    const signal = new AbortController().signal;
    const result = await new WorkersAIProvider(ai).generate({ ...request, stream: true }, { onToken, signal });
    expect(calls[0]).toEqual([DEFAULT, { messages: request.messages, max_tokens: 64, temperature: 0.2, stream: true }, { signal }]);
    expect(tokens).toEqual(['A', ' cat sat', ' on a mat.']);
    expect(result).toMatchObject({ text: 'A cat sat on a mat.', tokensIn: 40, tokensOut: 64, finishReason: 'length' });
  });

  it.each([1, 9, 4096])('streams OpenAI-style chunks to their text, usage and finish reason (%i-byte reads)', async (size) => {
    const { tokens, onToken } = collect();
    const result = await new WorkersAIProvider(fakeAi(chunked(chatStream, size)).ai).generate({ ...request, stream: true }, { onToken });
    expect(tokens).toEqual(['A cat', ' sat on a m\u00e4t.']);
    expect(result).toMatchObject({
      text: 'A cat sat on a m\u00e4t.',
      tokensIn: 40,
      tokensOut: 31,
      tokensReasoning: 22,
      finishReason: 'stop',
    });
  });

  it('takes a whole answer to a streamed request (a model that cannot stream) as one chunk', async () => {
    const { tokens, onToken } = collect();
    const result = await new WorkersAIProvider(fakeAi(completion).ai).generate({ ...request, stream: true }, { onToken });
    expect(tokens).toEqual(['A cat sat on a mat.']);
    expect(result.text).toBe('A cat sat on a mat.');
  });

  it('treats a stream that ends before [DONE] and without a finish reason as cut off', async () => {
    const cut = chatStream.slice(0, chatStream.indexOf('"finish_reason":"stop"'));
    const err = await failure(new WorkersAIProvider(fakeAi(chunked(cut, 8)).ai).generate({ ...request, stream: true }));
    expect(err).toMatchObject({ code: 'network', retryable: true });
  });
});

describe('WorkersAIProvider errors', () => {
  const upstream = (message: string) => Object.assign(new Error(message), { name: 'InferenceUpstreamError' });

  it.each([
    ['local dev, where the binding cannot run', new Error('Binding AI needs to be run remotely'), 'not_configured', false, undefined],
    ['out of capacity (3040)', upstream('3040: Capacity temporarily exceeded, please try again.'), 'rate_limited', true, 5_000],
    [
      'the daily free allocation used up (3036)',
      upstream('3036: You have used up your daily free allocation of 10,000 neurons.'),
      'quota_exceeded',
      false,
      undefined,
    ],
    ['a timeout (3007)', upstream('3007: Request timeout'), 'timeout', true, undefined],
    [
      'an account not allowed the model (5018)',
      upstream('5018: The account is not allowed to access this model'),
      'auth',
      false,
      undefined,
    ],
    ['an input the model refuses (5004)', upstream('5004: Invalid data type for base64 input: number'), 'bad_request', false, undefined],
    ['an upstream failure without a code', upstream('Internal inference error'), 'server_error', true, undefined],
    ['an output of the wrong shape', { result: 'nope' }, 'invalid_response', true, undefined],
  ])('classifies %s', async (_, outcome, code, retryable, retryAfterMs) => {
    const err = await failure(new WorkersAIProvider(fakeAi(outcome).ai).generate(request));
    expect(err).toMatchObject({ provider: 'workers-ai', code, retryable });
    expect(err.retryAfterMs).toBe(retryAfterMs);
  });

  it('reports a model the platform does not serve (5007) as model_not_found, naming the model and the setting', async () => {
    const retired = '@cf/meta/llama-3.1-8b-instruct';
    const err = await failure(
      new WorkersAIProvider(fakeAi(upstream(`5007: No such model ${retired} or task`)).ai, { defaultModel: retired }).generate(request),
    );
    expect(err).toMatchObject({ code: 'model_not_found', retryable: false });
    expect(err.message).toContain(`"${retired}"`);
    expect(err.message).toContain('WORKERS_AI_MODEL');
    expect(err.message).toContain('retired on 2026-05-30');
    const named = await failure(
      new WorkersAIProvider(fakeAi(upstream('3042: The model name is invalid')).ai).generate({ ...request, model: '@cf/x/y' }),
    );
    expect(named.message).toContain("the node's or request's `model`");
  });

  it('is not configured without the binding', async () => {
    const err = await failure(new WorkersAIProvider(undefined).generate(request));
    expect(err).toMatchObject({ code: 'not_configured', retryable: false });
  });
});
