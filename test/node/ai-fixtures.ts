/*
 * Provider responses for the contract tests (ai-contracts.test.ts), one set per provider: a
 * whole answer, a streamed one, and the failures the adapters must classify. They follow each
 * provider's documented wire format and the types of the official SDK pinned in package.json;
 * they were written from those, not captured from live traffic (this machine reaches no
 * provider). Each answer spends some tokens reasoning, so reasoning accounting is exercised too.
 */

export type Recorded = { status: number; headers: Record<string, string>; body: string };

const json = (body: unknown, status = 200, headers: Record<string, string> = {}): Recorded => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const sse = (events: string[]): Recorded => ({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: events.join('') });

/** The logical request every provider is asked: the same conversation, the same budget. */
export const conversation = {
  system: 'You are terse.',
  turns: [
    { role: 'user' as const, content: 'Summarise: the cat sat on the mat.' },
    { role: 'assistant' as const, content: 'Which part?' },
    { role: 'user' as const, content: 'All of it.' },
  ],
  maxTokens: 64,
  temperature: 0.2,
};

export const ANSWER = 'A cat sat on a m\u00e4t. \u{1F408}';

// ---- OpenAI Chat Completions ----------------------------------------------------------------

const openaiHead = '"id":"chatcmpl-CqL1","object":"chat.completion.chunk","created":1765100000,"model":"gpt-6-luna-2026-09-22"';
export const openai = {
  completion: json({
    id: 'chatcmpl-CqL0',
    object: 'chat.completion',
    created: 1765100000,
    model: 'gpt-6-luna-2026-09-22',
    choices: [
      { index: 0, message: { role: 'assistant', content: ANSWER, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' },
    ],
    usage: {
      prompt_tokens: 31,
      completion_tokens: 203,
      total_tokens: 234,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 192, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
    service_tier: 'default',
    system_fingerprint: null,
  }),
  stream: sse([
    `data: {${openaiHead},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: {${openaiHead},"choices":[{"index":0,"delta":{"content":"A cat sat"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: {${openaiHead},"choices":[{"index":0,"delta":{"content":" on a m\u00e4t. \u{1F408}"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
    `data: {${openaiHead},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n`,
    `data: {${openaiHead},"choices":[],"usage":{"prompt_tokens":31,"completion_tokens":203,"total_tokens":234,"completion_tokens_details":{"reasoning_tokens":192}}}\n\n`,
    'data: [DONE]\n\n',
  ]),
  rateLimited: json(
    {
      error: {
        message: 'Rate limit reached for gpt-6-luna on requests per min (RPM): Limit 500, Used 500.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
    429,
    { 'retry-after': '1', 'x-ratelimit-remaining-requests': '0' },
  ),
  quota: json(
    {
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    },
    429,
  ),
  missingModel: json(
    {
      error: {
        message: 'The model `gpt-4o-mini-2024-07-18` does not exist or you do not have access to it.',
        type: 'invalid_request_error',
        param: null,
        code: 'model_not_found',
      },
    },
    404,
  ),
  badKey: json(
    { error: { message: 'Incorrect API key provided: sk-test.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    401,
  ),
};

// ---- Anthropic Messages ---------------------------------------------------------------------

const thinking = { type: 'thinking', thinking: 'Keep it to one sentence.', signature: 'EuYBCkQYAiJA3yQ' };
export const anthropic = {
  message: json({
    id: 'msg_01Hx5',
    type: 'message',
    role: 'assistant',
    model: 'claude-haiku-5-5',
    content: [thinking, { type: 'text', text: ANSWER, citations: null }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: {
      input_tokens: 28,
      output_tokens: 57,
      output_tokens_details: { thinking_tokens: 41 },
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: null,
      inference_geo: 'us',
      server_tool_use: null,
      service_tier: 'standard',
      speed: 'standard',
    },
  }),
  stream: sse([
    'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01Hx6","type":"message","role":"assistant","model":"claude-haiku-5-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":28,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Keep it to one sentence."}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EuYBCkQYAiJA3yQ"}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    'event: ping\ndata: {"type":"ping"}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"A cat sat"}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" on a m\u00e4t. \u{1F408}"}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":28,"output_tokens":57,"output_tokens_details":{"thinking_tokens":41}}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ]),
  rateLimited: json(
    {
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your per-minute rate limit.' },
      request_id: 'req_011',
    },
    429,
    { 'retry-after': '1' },
  ),
  quota: json(
    {
      type: 'error',
      error: { type: 'billing_error', message: 'Your credit balance is too low to access the Anthropic API.' },
      request_id: 'req_012',
    },
    402,
  ),
  missingModel: json(
    { type: 'error', error: { type: 'not_found_error', message: 'model: claude-3-5-haiku-latest' }, request_id: 'req_013' },
    404,
  ),
  badKey: json({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' }, request_id: 'req_014' }, 401),
};

// ---- Gemini generateContent -------------------------------------------------------------------

const geminiUsage = { promptTokenCount: 24, candidatesTokenCount: 14, thoughtsTokenCount: 120, totalTokenCount: 158 };
export const google = {
  response: json({
    candidates: [
      {
        content: { parts: [{ text: 'Considering brevity.', thought: true }, { text: ANSWER }], role: 'model' },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: { ...geminiUsage, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 24 }] },
    modelVersion: 'gemini-3.8-flash',
    responseId: 'mLvfZ8fVEaGW1MkP',
  }),
  // Gemini ends SSE lines with \r\n and has no end sentinel; every chunk carries the running usage.
  stream: sse([
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'A cat sat' }], role: 'model' }, index: 0 }], usageMetadata: { promptTokenCount: 24, thoughtsTokenCount: 120, totalTokenCount: 144 }, modelVersion: 'gemini-3.8-flash' })}\r\n\r\n`,
    `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: ' on a m\u00e4t. \u{1F408}' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: geminiUsage, modelVersion: 'gemini-3.8-flash' })}\r\n\r\n`,
  ]),
  rateLimited: json(
    {
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
        ],
      },
    },
    429,
  ),
  quota: json(
    {
      error: {
        code: 429,
        message: 'You exceeded your current quota, please check your plan and billing details.',
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [{ quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' },
        ],
      },
    },
    429,
  ),
  missingModel: json(
    {
      error: {
        code: 404,
        message: 'models/gemini-2.0-flash is not found for API version v1beta, or is not supported for generateContent.',
        status: 'NOT_FOUND',
      },
    },
    404,
  ),
  badKey: json(
    {
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
      },
    },
    400,
  ),
};

// ---- Workers AI binding outputs -------------------------------------------------------------

/** Outputs as `env.AI.run` resolves them; streams are the SSE bytes it hands over. */
export const workersAi = {
  native: { response: ANSWER, tool_calls: [], usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 } },
  nativeStream: [
    'data: {"response":"A cat sat","p":"abdefgh"}\n\n',
    `data: {"response":" on a m\u00e4t. \u{1F408}","p":"ab"}\n\n`,
    'data: {"response":"","usage":{"prompt_tokens":40,"completion_tokens":12,"total_tokens":52}}\n\n',
    'data: [DONE]\n\n',
  ].join(''),
  chat: {
    id: 'chatcmpl-1f4c',
    object: 'chat.completion',
    created: 1765100000,
    model: '@cf/zai-org/glm-4.7-flash',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: ANSWER, reasoning_content: 'Short is best.' },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 40, completion_tokens: 34, total_tokens: 74, completion_tokens_details: { reasoning_tokens: 22 } },
  },
  chatStream: [
    'data: {"id":"chatcmpl-1f4d","object":"chat.completion.chunk","created":1765100000,"model":"@cf/zai-org/glm-4.7-flash","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"Short is best."},"finish_reason":null}]}\n\n',
    'data: {"id":"chatcmpl-1f4d","object":"chat.completion.chunk","created":1765100000,"model":"@cf/zai-org/glm-4.7-flash","choices":[{"index":0,"delta":{"content":"A cat sat"},"finish_reason":null}]}\n\n',
    `data: {"id":"chatcmpl-1f4d","object":"chat.completion.chunk","created":1765100000,"model":"@cf/zai-org/glm-4.7-flash","choices":[{"index":0,"delta":{"content":" on a m\u00e4t. \u{1F408}"},"finish_reason":null}]}\n\n`,
    'data: {"id":"chatcmpl-1f4d","object":"chat.completion.chunk","created":1765100000,"model":"@cf/zai-org/glm-4.7-flash","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":40,"completion_tokens":34,"total_tokens":74,"completion_tokens_details":{"reasoning_tokens":22}}}\n\n',
    'data: [DONE]\n\n',
  ].join(''),
  /** What the binding throws, by Cloudflare's error table: `InferenceUpstreamError("<code>: <description>")`. */
  errors: {
    missingModel: '5007: No such model @cf/meta/llama-3.1-8b-instruct or task',
    capacity: '3040: Capacity temporarily exceeded, please try again.',
    dailyAllocation:
      "3036: You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's Workers Paid plan if you would like to continue usage.",
  },
};

// ---- Structured output (issue 15) -------------------------------------------------------------

/**
 * The schema every provider is asked to answer in: nested objects and arrays, an enum, and the
 * constraints some providers move or drop (lengths, bounds, item counts), so each adapter's
 * transformation of it is compared with its SDK's.
 */
export const OUTLINE_SCHEMA = {
  type: 'object',
  description: 'An outline of the answer',
  properties: {
    title: { type: 'string', minLength: 3, maxLength: 80, description: 'What the outline is called' },
    tone: { type: 'string', enum: ['formal', 'casual'] },
    sections: {
      type: 'array',
      minItems: 2,
      maxItems: 6,
      items: {
        type: 'object',
        title: 'Section',
        properties: { heading: { type: 'string' }, words: { type: 'integer', minimum: 50, maximum: 500 } },
        required: ['heading', 'words'],
      },
    },
  },
  required: ['title', 'tone', 'sections'],
};

/** The recorded answer in every format: unicode and an emoji inside a JSON string. */
export const OUTLINE = {
  title: 'Cats on m\u00e4ts',
  tone: 'casual',
  sections: [
    { heading: 'The cat \u{1F408}', words: 120 },
    { heading: 'The mat', words: 80 },
  ],
};
const OUTLINE_TEXT = JSON.stringify(OUTLINE);
// Streamed answers cut the JSON mid-string and mid-key, as models do.
const outlineParts = [OUTLINE_TEXT.slice(0, 9), OUTLINE_TEXT.slice(9, 40), OUTLINE_TEXT.slice(40)];

export const structured = {
  openai: {
    completion: json({
      id: 'chatcmpl-CqS0',
      object: 'chat.completion',
      created: 1765100000,
      model: 'gpt-6-luna-2026-09-22',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: OUTLINE_TEXT, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 88, completion_tokens: 140, total_tokens: 228, completion_tokens_details: { reasoning_tokens: 96 } },
    }),
    stream: sse([
      `data: {${openaiHead},"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
      ...outlineParts.map(
        (part) =>
          `data: {${openaiHead},"choices":[{"index":0,"delta":{"content":${JSON.stringify(part)}},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
      ),
      `data: {${openaiHead},"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n`,
      `data: {${openaiHead},"choices":[],"usage":{"prompt_tokens":88,"completion_tokens":140,"total_tokens":228,"completion_tokens_details":{"reasoning_tokens":96}}}\n\n`,
      'data: [DONE]\n\n',
    ]),
    /** The array-root case: the adapter wraps the schema in `{ value }`, so the model answers in it. */
    wrapped: json({
      id: 'chatcmpl-CqS1',
      object: 'chat.completion',
      created: 1765100000,
      model: 'gpt-6-luna-2026-09-22',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: JSON.stringify({ value: OUTLINE.sections }), refusal: null },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 60, completion_tokens: 30, total_tokens: 90 },
    }),
    /** Cut off at max_completion_tokens: text that is not JSON, reported, not thrown. */
    cut: json({
      id: 'chatcmpl-CqS2',
      object: 'chat.completion',
      created: 1765100000,
      model: 'gpt-6-luna-2026-09-22',
      choices: [{ index: 0, message: { role: 'assistant', content: OUTLINE_TEXT.slice(0, 30), refusal: null }, finish_reason: 'length' }],
      usage: { prompt_tokens: 88, completion_tokens: 64, total_tokens: 152 },
    }),
  },
  anthropic: {
    message: json({
      id: 'msg_01Hs1',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-5-5',
      content: [thinking, { type: 'text', text: OUTLINE_TEXT, citations: null }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 120, output_tokens: 90, output_tokens_details: { thinking_tokens: 41 } },
    }),
    stream: sse([
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01Hs2","type":"message","role":"assistant","model":"claude-haiku-5-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":1}}}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
      ...outlineParts.map(
        (part) =>
          `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: part } })}\n\n`,
      ),
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":90,"output_tokens_details":{"thinking_tokens":41}}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]),
  },
  google: {
    response: json({
      candidates: [
        {
          content: { parts: [{ text: 'Planning the outline.', thought: true }, { text: OUTLINE_TEXT }], role: 'model' },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 70, candidatesTokenCount: 50, thoughtsTokenCount: 30, totalTokenCount: 150 },
      modelVersion: 'gemini-3.8-flash',
    }),
    stream: sse(
      outlineParts.map(
        (part, i) =>
          `data: ${JSON.stringify({
            candidates: [
              {
                content: { parts: [{ text: part }], role: 'model' },
                index: 0,
                ...(i === outlineParts.length - 1 ? { finishReason: 'STOP' } : {}),
              },
            ],
            usageMetadata: { promptTokenCount: 70, candidatesTokenCount: 50, thoughtsTokenCount: 30, totalTokenCount: 150 },
          })}\r\n\r\n`,
      ),
    ),
  },
  workersAi: {
    /** JSON mode in the original family: `response` is the parsed object. */
    native: { response: OUTLINE, usage: { prompt_tokens: 90, completion_tokens: 45, total_tokens: 135 } },
    chat: {
      id: 'chatcmpl-2a1',
      object: 'chat.completion',
      created: 1765100000,
      model: '@cf/google/gemma-4-26b-a4b-it',
      choices: [{ index: 0, message: { role: 'assistant', content: OUTLINE_TEXT }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 90, completion_tokens: 45, total_tokens: 135 },
    },
  },
};
