import { describe, expect, it } from 'vitest';
import { AnthropicProvider } from '../../src/ai/anthropic';
import { GoogleProvider } from '../../src/ai/google';
import { OpenAIProvider } from '../../src/ai/openai';
import { readSse } from '../../src/ai/sse';
import type { AIProvider, Fetcher } from '../../src/ai/types';
import { chat, chunked, collect, failure, fakeFetch, json, request, sent, sse } from './ai-wire';

/*
 * The network providers against recorded wire traffic: each test hands a provider a fake fetch
 * that records the request and answers with a body in the documented format. Workers AI, whose
 * binding is not HTTP, has its own file (ai-workers-ai.test.ts).
 */

describe('readSse', () => {
  const stream = [
    ': keep-alive comment from a proxy\r\n',
    'event: greeting\r\ndata: {"a":1}\r\n\r\n',
    'data: first line\ndata:second line\ndata\n\n',
    'data: crlf-free \u00e9t\u00e9 \u{1F408}\r\r',
    'event:\ndata: [DONE]\n\n',
    'data: cut off before its blank line\n',
  ].join('');

  it.each([1, 2, 3, 7, 1024])('yields the same events however the body is split (%i-byte reads)', async (size) => {
    const events = [];
    for await (const event of readSse(chunked(stream, size))) events.push(event);
    expect(events).toEqual([
      { event: 'greeting', data: '{"a":1}' },
      { data: 'first line\nsecond line\n' },
      { data: 'crlf-free \u00e9t\u00e9 \u{1F408}' },
      { data: '[DONE]' },
    ]);
  });

  it('cancels the upstream body when the consumer stops early', async () => {
    let cancelled = false;
    for await (const event of readSse(chunked('data: 1\n\ndata: 2\n\n', 4, () => void (cancelled = true)))) {
      expect(event.data).toBe('1');
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe('OpenAIProvider', () => {
  const completion = {
    id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
    object: 'chat.completion',
    created: 1741570283,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'A cat sat on a mat.', refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 31,
      completion_tokens: 7,
      total_tokens: 38,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_06737a9306',
  };
  const head =
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306"';
  const streamBody = [
    `data: ${head},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: ${head},"choices":[{"index":0,"delta":{"content":"A cat"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: ${head},"choices":[{"index":0,"delta":{"content":" sat \u2014 on a mat \u{1F408}"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: ${head},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}],"usage":null}\n\n`,
    `data: ${head},"choices":[],"usage":{"prompt_tokens":31,"completion_tokens":9,"total_tokens":40}}\n\n`,
    'data: [DONE]\n\n',
  ].join('');

  it('sends a Chat Completions request: max_completion_tokens, and no sampling parameters for a reasoning model', async () => {
    const { fetch, calls } = fakeFetch(json(completion), json(completion));
    const openai = new OpenAIProvider({ apiKey: 'sk-test' }, fetch);
    await openai.generate(request);
    expect(sent(calls[0])).toEqual({
      url: 'https://api.openai.com/v1/chat/completions',
      method: 'POST',
      headers: { authorization: 'Bearer sk-test', 'content-type': 'application/json' },
      // gpt-6-luna, the default, reasons: OpenAI refuses temperature for it (400 unsupported_parameter).
      body: { model: 'gpt-6-luna', messages: request.messages, max_completion_tokens: 64 },
    });
    await openai.generate({ ...request, model: 'gpt-4o-mini' });
    expect(sent(calls[1]).body).toEqual({ model: 'gpt-4o-mini', messages: request.messages, max_completion_tokens: 64, temperature: 0.2 });
  });

  it('talks to any OpenAI-compatible base URL, with usage requested when streaming', async () => {
    const { fetch, calls } = fakeFetch(sse(streamBody));
    const groq = new OpenAIProvider(
      { apiKey: 'gsk-test', baseUrl: 'https://api.groq.com/openai/v1/', defaultModel: 'llama-3.1-8b-instant' },
      fetch,
    );
    await groq.generate({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 32, temperature: 0.5, stream: true });
    // A model the catalogue does not know, on a server that is not OpenAI's: the cap compatible servers document.
    expect(sent(calls[0])).toMatchObject({
      url: 'https://api.groq.com/openai/v1/chat/completions',
      body: {
        model: 'llama-3.1-8b-instant',
        messages: [{ role: 'user', content: 'Hi' }],
        max_tokens: 32,
        temperature: 0.5,
        stream: true,
        stream_options: { include_usage: true },
      },
    });
  });

  it('sends an OpenAI reasoning model through a gateway as OpenAI wants it, even one the catalogue does not list', async () => {
    const { fetch, calls } = fakeFetch(json(completion));
    const gateway = new OpenAIProvider({ apiKey: 'sk-test', baseUrl: 'https://gateway.ai.cloudflare.com/v1/acct/gw/openai' }, fetch);
    await gateway.generate({ ...request, model: 'o9-mini' });
    expect(sent(calls[0]).body).toEqual({ model: 'o9-mini', messages: request.messages, max_completion_tokens: 64 });
  });

  it('reads a completion', async () => {
    const result = await new OpenAIProvider({ apiKey: 'sk-test' }, fakeFetch(json(completion)).fetch).generate(request);
    expect(result).toEqual({
      text: 'A cat sat on a mat.',
      provider: 'openai',
      model: 'gpt-6-luna',
      tokensIn: 31,
      tokensOut: 7,
      finishReason: 'stop',
      rawFinishReason: 'stop',
    });
  });

  it.each([1, 5, 64])('streams tokens to onToken (%i-byte reads) and totals the usage chunk', async (size) => {
    const { tokens, onToken } = collect();
    const result = await new OpenAIProvider({ apiKey: 'sk-test' }, fakeFetch(sse(streamBody, size)).fetch).generate(
      { ...request, stream: true },
      { onToken },
    );
    expect(tokens).toEqual(['A cat', ' sat \u2014 on a mat \u{1F408}']);
    expect(result).toMatchObject({ text: 'A cat sat \u2014 on a mat \u{1F408}', tokensIn: 31, tokensOut: 9, finishReason: 'length' });
  });

  it('counts reasoning tokens beside the output tokens that include them', async () => {
    const reasoned = {
      ...completion,
      usage: { ...completion.usage, completion_tokens: 107, completion_tokens_details: { reasoning_tokens: 100 } },
    };
    const result = await new OpenAIProvider({ apiKey: 'sk-test' }, fakeFetch(json(reasoned)).fetch).generate(request);
    expect(result).toMatchObject({ tokensOut: 107, tokensReasoning: 100 });
  });

  it('treats a stream that ends without a finish as cut off, and retryable', async () => {
    const cut = streamBody.slice(0, streamBody.indexOf('"finish_reason":"length"'));
    const err = await failure(new OpenAIProvider({ apiKey: 'sk-test' }, fakeFetch(sse(cut)).fetch).generate({ ...request, stream: true }));
    expect(err).toMatchObject({ code: 'network', retryable: true });
  });

  it('passes the signal to fetch and stops mid-stream when it aborts', async () => {
    const { fetch, calls } = fakeFetch(sse(streamBody));
    const controller = new AbortController();
    const err = await failure(
      new OpenAIProvider({ apiKey: 'sk-test' }, fetch).generate(
        { ...request, stream: true },
        { signal: controller.signal, onToken: () => controller.abort() },
      ),
    );
    expect(calls[0]?.init.signal).toBe(controller.signal);
    expect(err).toMatchObject({ code: 'aborted', retryable: false });
  });
});

describe('AnthropicProvider', () => {
  const message = {
    id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
    content: [{ type: 'text', text: 'A cat sat on a mat.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 28, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 10 },
  };
  const streamBody = [
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-3-5-haiku-20241022","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":28,"output_tokens":1}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
    'event: ping\ndata: {"type": "ping"}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"A cat"}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" sat on a m\u00e4t."}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":12}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ].join('');

  it('sends a Messages request: current API version, system prompt on top, max_tokens always set', async () => {
    const { fetch, calls } = fakeFetch(json(message), sse(streamBody));
    const anthropic = new AnthropicProvider({ apiKey: 'sk-ant-test' }, fetch);
    await anthropic.generate(request);
    expect(sent(calls[0])).toEqual({
      url: 'https://api.anthropic.com/v1/messages',
      method: 'POST',
      headers: { authorization: 'Bearer sk-ant-test', 'anthropic-version': '2026-10-21', 'content-type': 'application/json' },
      // API version 2026-10-21 refuses temperature on every model, so the caller's 0.2 is left out.
      body: { model: 'claude-haiku-5-5', max_tokens: 64, system: 'You are terse.', messages: chat },
    });
    await anthropic.generate({ messages: [{ role: 'user', content: 'Hi' }], stream: true });
    expect(sent(calls[1]).body).toEqual({
      model: 'claude-haiku-5-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
  });

  it('reads a message', async () => {
    const result = await new AnthropicProvider({ apiKey: 'sk-ant-test' }, fakeFetch(json(message)).fetch).generate(request);
    expect(result).toEqual({
      text: 'A cat sat on a mat.',
      provider: 'anthropic',
      model: 'claude-haiku-5-5',
      tokensIn: 28,
      tokensOut: 10,
      finishReason: 'stop',
      rawFinishReason: 'end_turn',
    });
  });

  it('streams text deltas, skipping ping and block boundaries, with usage from start and delta events', async () => {
    const { tokens, onToken } = collect();
    const result = await new AnthropicProvider({ apiKey: 'sk-ant-test' }, fakeFetch(sse(streamBody, 3)).fetch).generate(
      { ...request, stream: true },
      { onToken },
    );
    expect(tokens).toEqual(['A cat', ' sat on a m\u00e4t.']);
    expect(result).toMatchObject({ text: 'A cat sat on a m\u00e4t.', tokensIn: 28, tokensOut: 12, finishReason: 'length' });
  });

  it('skips thinking blocks and counts their tokens beside the output tokens that include them', async () => {
    const thought = {
      ...message,
      content: [{ type: 'thinking', thinking: 'The user wants brevity.', signature: 'EqQBCgIYAhIM' }, ...message.content],
      usage: { ...message.usage, output_tokens: 40, output_tokens_details: { thinking_tokens: 30 } },
    };
    const result = await new AnthropicProvider({ apiKey: 'sk-ant-test' }, fakeFetch(json(thought)).fetch).generate(request);
    expect(result).toMatchObject({ text: 'A cat sat on a mat.', tokensOut: 40, tokensReasoning: 30 });
    const streamed = streamBody.replace(
      '"usage":{"output_tokens":12}',
      '"usage":{"output_tokens":52,"output_tokens_details":{"thinking_tokens":40}}',
    );
    const fromStream = await new AnthropicProvider({ apiKey: 'sk-ant-test' }, fakeFetch(sse(streamed)).fetch).generate({
      ...request,
      stream: true,
    });
    expect(fromStream).toMatchObject({ tokensOut: 52, tokensReasoning: 40 });
  });

  it('classifies an error event inside a 200 stream by its documented type', async () => {
    const overloaded = `${streamBody.split('\n\n').slice(0, 4).join('\n\n')}\n\nevent: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n`;
    const err = await failure(
      new AnthropicProvider({ apiKey: 'sk-ant-test' }, fakeFetch(sse(overloaded)).fetch).generate({ ...request, stream: true }),
    );
    expect(err).toMatchObject({ code: 'server_error', retryable: true });
    expect(err.message).toContain('Overloaded');
  });
});

describe('GoogleProvider', () => {
  const usage = {
    promptTokenCount: 24,
    candidatesTokenCount: 8,
    totalTokenCount: 32,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 24 }],
  };
  const reply = {
    candidates: [{ content: { parts: [{ text: 'A cat sat on a mat.\n' }], role: 'model' }, finishReason: 'STOP', avgLogprobs: -0.0512 }],
    usageMetadata: usage,
    modelVersion: 'gemini-2.0-flash',
    responseId: 'mLvfZ8fVEaGW1MkPiIC3wQ4',
  };
  const chunk = (text: string, extra: object = {}) =>
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text }], role: 'model' }, ...extra }], usageMetadata: { promptTokenCount: 24, totalTokenCount: 24 }, modelVersion: 'gemini-2.0-flash' })}\r\n\r\n`;
  // Gemini's SSE ends lines with \r\n and has no end sentinel; the last chunk holds finishReason and the full usage.
  const streamBody = [
    chunk('A'),
    chunk(' cat sat on a mat'),
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: '.' }], role: 'model' }, finishReason: 'MAX_TOKENS' }], usageMetadata: usage, modelVersion: 'gemini-2.0-flash' })}\r\n\r\n`,
  ].join('');

  it('sends a generateContent request: contents with user/model roles, systemInstruction, generationConfig', async () => {
    const { fetch, calls } = fakeFetch(json(reply), sse(streamBody));
    const google = new GoogleProvider({ apiKey: 'AIza-test' }, fetch);
    await google.generate(request);
    expect(sent(calls[0])).toEqual({
      url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-3.8-flash:generateContent',
      method: 'POST',
      headers: { 'x-goog-api-key': 'AIza-test', 'content-type': 'application/json' },
      body: {
        contents: [
          { role: 'user', parts: [{ text: 'Summarise: the cat sat on the mat.' }] },
          { role: 'model', parts: [{ text: 'Which part?' }] },
          { role: 'user', parts: [{ text: 'All of it.' }] },
        ],
        systemInstruction: { parts: [{ text: 'You are terse.' }], role: 'user' },
        generationConfig: { maxOutputTokens: 64, temperature: 0.2 },
      },
    });
    await google.generate({ ...request, model: 'gemini-2.5-flash', stream: true });
    expect(sent(calls[1]).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
  });

  it('reads a response', async () => {
    const result = await new GoogleProvider({ apiKey: 'AIza-test' }, fakeFetch(json(reply)).fetch).generate(request);
    expect(result).toEqual({
      text: 'A cat sat on a mat.\n',
      provider: 'google',
      model: 'gemini-3.8-flash',
      tokensIn: 24,
      tokensOut: 8,
      finishReason: 'stop',
      rawFinishReason: 'STOP',
    });
  });

  it('streams chunks split across \\r\\n boundaries and keeps the last usage', async () => {
    const { tokens, onToken } = collect();
    const result = await new GoogleProvider({ apiKey: 'AIza-test' }, fakeFetch(sse(streamBody, 2)).fetch).generate(
      { ...request, stream: true },
      { onToken },
    );
    expect(tokens).toEqual(['A', ' cat sat on a mat', '.']);
    expect(result).toMatchObject({ text: 'A cat sat on a mat.', tokensIn: 24, tokensOut: 8, finishReason: 'length' });
  });

  it('adds thinking tokens, which candidatesTokenCount leaves out, to the output tokens', async () => {
    const thinking = { ...reply, usageMetadata: { ...usage, thoughtsTokenCount: 120, totalTokenCount: 152 } };
    const result = await new GoogleProvider({ apiKey: 'AIza-test' }, fakeFetch(json(thinking)).fetch).generate(request);
    expect(result).toMatchObject({ tokensIn: 24, tokensOut: 128, tokensReasoning: 120 });
  });

  it('reports a blocked prompt as a request it should not repeat', async () => {
    const blocked = {
      promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] },
      usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
    };
    const err = await failure(new GoogleProvider({ apiKey: 'AIza-test' }, fakeFetch(json(blocked)).fetch).generate(request));
    expect(err).toMatchObject({ code: 'bad_request', retryable: false });
  });
});

describe.each<[string, (fetch: Fetcher, apiKey?: string) => AIProvider, string]>([
  [
    'openai',
    (fetch, apiKey = 'sk-test') => new OpenAIProvider({ apiKey }, fetch),
    '{"error":{"message":"Incorrect API key provided: sk-test.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}',
  ],
  [
    'anthropic',
    (fetch, apiKey = 'sk-ant-test') => new AnthropicProvider({ apiKey }, fetch),
    '{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}',
  ],
  [
    'google',
    (fetch, apiKey = 'AIza-test') => new GoogleProvider({ apiKey }, fetch),
    '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}',
  ],
])('%s failures', (name, make, errorBody) => {
  it.each([
    [429, 'rate_limited', true],
    [500, 'server_error', true],
    [503, 'server_error', true],
    [400, 'bad_request', false],
    [401, 'auth', false],
  ])('classifies HTTP %i as %s (retryable: %s), quoting the provider message', async (status, code, retryable) => {
    const err = await failure(make(fakeFetch(new Response(errorBody, { status })).fetch).generate(request));
    expect(err).toMatchObject({ provider: name, code, retryable, status });
    expect(err.message).toMatch(/API key|api-key/);
    expect(err.message).not.toContain('{');
  });

  it('retries a failed connection', async () => {
    const err = await failure(make(fakeFetch(new TypeError('Network connection lost.')).fetch).generate(request));
    expect(err).toMatchObject({ code: 'network', retryable: true });
  });

  it('retries a 200 whose body is not the documented shape', async () => {
    for (const body of [json({ unexpected: true }), new Response('<html>502 Bad Gateway</html>')]) {
      const err = await failure(make(fakeFetch(body).fetch).generate(request));
      expect(err).toMatchObject({ code: 'invalid_response', retryable: true });
    }
  });

  it('is not configured without a key, and sends nothing', async () => {
    const { fetch, calls } = fakeFetch();
    const provider = make(fetch, '');
    const err = await failure(provider.generate(request));
    expect(err).toMatchObject({ code: 'not_configured', retryable: false });
    expect(calls).toHaveLength(0);
  });

  it('sends nothing once aborted; a deadline is a timeout, which may be retried', async () => {
    const { fetch, calls } = fakeFetch();
    const aborted = await failure(make(fetch).generate(request, { signal: AbortSignal.abort() }));
    expect(aborted).toMatchObject({ code: 'aborted', retryable: false });
    const timedOut = await failure(
      make(fetch).generate(request, { signal: AbortSignal.abort(new DOMException('deadline', 'TimeoutError')) }),
    );
    expect(timedOut).toMatchObject({ code: 'timeout', retryable: true });
    expect(calls).toHaveLength(0);
  });
});

describe('contextWindow', () => {
  it('comes from the catalogue: listed models, their dated snapshots, families, and a conservative default', () => {
    const fetch = fakeFetch().fetch;
    const openai = new OpenAIProvider({ apiKey: 'k' }, fetch);
    expect([
      openai.contextWindow('gpt-6-luna'),
      openai.contextWindow('gpt-4o-mini-2024-07-18'),
      openai.contextWindow('gpt-6.9-nova'),
      openai.contextWindow('llama3:8b'),
    ]).toEqual([1_050_000, 128_000, 128_000, 8_192]);
    const anthropic = new AnthropicProvider({ apiKey: 'k' }, fetch);
    expect([anthropic.contextWindow('claude-haiku-5-5'), anthropic.contextWindow('claude-3-5-haiku-latest')]).toEqual([1_000_000, 200_000]);
    expect(new GoogleProvider({ apiKey: 'k' }, fetch).contextWindow('gemini-3.8-flash')).toBe(1_048_576);
  });
});
