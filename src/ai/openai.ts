import { z } from 'zod';
import { modelInfo, type ModelInfo } from './catalogue';
import { modelContext } from './errors';
import { DEFAULT_MODELS } from './models';
import { parseJson, postJson, providerSse, readJson, requireKey, truncatedStream } from './sse';
import { formatName, objectRoot, openaiStrictSchema, requireStructuredSupport, structuredFields } from './structured';
import {
  ProviderError,
  estimateTokens,
  type AIProvider,
  type Fetcher,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
} from './types';

/*
 * OpenAI Chat Completions, and through `baseUrl` any server speaking the same dialect (Groq,
 * Together, vLLM, Ollama's /v1). What the request carries depends on the model (the catalogue):
 * - the output cap is `max_completion_tokens`, the field OpenAI documents (`max_tokens` is
 *   deprecated and refused by its reasoning models). Compatible servers document `max_tokens`
 *   (Ollama lists only that one), so a model the catalogue does not know and that is not of an
 *   OpenAI reasoning family, on a server that is not OpenAI's, gets `max_tokens`;
 * - reasoning models (o-series, GPT-5 onwards) refuse sampling parameters: no `temperature`;
 * - structured output is `response_format: { type: 'json_schema', json_schema: { name, schema,
 *   strict } }`, strict when the schema meets strict mode's rules (./structured.ts), as the SDK's
 *   helpers send it; otherwise `strict: false`, where the model is guided but not constrained.
 */

export type OpenAIConfig = {
  apiKey: string;
  /** Default 'https://api.openai.com/v1'; any OpenAI-compatible endpoint. */
  baseUrl?: string;
  /** Default: the catalogue's current OpenAI default. */
  defaultModel?: string;
  /** The catalogue's view of a model; default: the built-in catalogue, without AI_MODELS corrections. */
  describe?: (model: string) => ModelInfo;
};

const OPENAI_API = 'https://api.openai.com/v1';

const Usage = z.object({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  // completion_tokens includes these; reasoning models report them, others leave them out or send 0.
  completion_tokens_details: z.object({ reasoning_tokens: z.number().optional() }).nullish(),
});

const Completion = z.object({
  choices: z
    .array(
      z.object({
        // null when the model answers with a tool call or a refusal rather than text
        message: z.object({ content: z.string().nullable(), refusal: z.string().nullish() }),
        finish_reason: z.string().nullable(),
      }),
    )
    .min(1),
  // Optional because some compatible servers leave it out; we then estimate.
  usage: Usage.optional(),
});

// A streamed chunk. With `stream_options.include_usage`, every chunk carries `usage: null` except
// a last one that has the usage and `choices: []`. A failure after the 200 arrives as `{ error }`.
const Chunk = z.object({
  choices: z
    .array(
      z.object({ delta: z.object({ content: z.string().nullish(), refusal: z.string().nullish() }), finish_reason: z.string().nullish() }),
    )
    .default([]),
  usage: Usage.nullish(),
  error: z.object({ message: z.string() }).optional(),
});

type Reply = { text: string; finish: string | null | undefined; refusal: string; usage: z.infer<typeof Usage> | null | undefined };

export class OpenAIProvider implements AIProvider {
  readonly name = 'openai';
  readonly defaultModel: string;
  // `#` fields stay out of JSON.stringify and console.log of the provider, so the key does too.
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #describe: (model: string) => ModelInfo;
  readonly #fetch: Fetcher;

  constructor(config: OpenAIConfig, fetch: Fetcher) {
    this.#apiKey = config.apiKey;
    this.#baseUrl = (config.baseUrl ?? OPENAI_API).replace(/\/+$/, '');
    this.defaultModel = config.defaultModel ?? DEFAULT_MODELS.openai;
    this.#describe = config.describe ?? ((model) => modelInfo('openai', model));
    this.#fetch = fetch;
  }

  contextWindow(model: string): number {
    return this.#describe(model).contextWindow;
  }

  /** The request body for a call; exported through the class so contract tests can compare it with the SDK's. */
  requestBody(request: GenerateRequest, model: string) {
    const info = this.#describe(model);
    // OpenAI's own field wherever OpenAI's models are served (its API, or a gateway in front of it).
    const officialCap = info.known || info.capabilities.reasoning || this.#baseUrl === OPENAI_API;
    const stream = request.stream === true;
    return {
      model,
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      ...(officialCap ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
      temperature: info.capabilities.temperature ? request.temperature : undefined,
      // Without include_usage a streamed reply reports no token counts at all.
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
      ...(request.output ? { response_format: responseFormat(request.output) } : {}),
    };
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const apiKey = requireKey('openai', this.#apiKey);
    const model = request.model ?? this.defaultModel;
    if (request.output) requireStructuredSupport('openai', this.#describe(model), model);
    const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const res = await postJson(
      'openai',
      this.#fetch,
      `${this.#baseUrl}/chat/completions`,
      headers,
      this.requestBody(request, model),
      options.signal,
      modelContext('openai', request.model, model),
    );
    const reply = request.stream === true ? await readStream(res, options) : await readCompletion(res, options.signal);
    const reasoning = reply.usage?.completion_tokens_details?.reasoning_tokens;
    const raw = reply.text === '' && reply.refusal ? 'refusal' : (reply.finish ?? undefined);
    return {
      text: reply.text,
      provider: 'openai',
      model,
      tokensIn: reply.usage?.prompt_tokens ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut: reply.usage?.completion_tokens ?? estimateTokens(reply.text),
      ...(reasoning ? { tokensReasoning: reasoning } : {}),
      finishReason: reply.finish === 'stop' ? 'stop' : reply.finish === 'length' ? 'length' : 'other',
      ...(raw ? { rawFinishReason: raw } : {}),
      ...structuredFields(request.output, reply.text, request.output ? objectRoot(request.output.schema).wrapped : false),
    };
  }
}

/** The `response_format` for a structured call: strict when strict mode can take the schema. */
function responseFormat(output: NonNullable<GenerateRequest['output']>) {
  const { schema } = objectRoot(output.schema);
  const strict = openaiStrictSchema(schema);
  return { type: 'json_schema', json_schema: { name: formatName(output.name), schema: strict ?? schema, strict: strict !== undefined } };
}

async function readCompletion(res: Response, signal: AbortSignal | undefined): Promise<Reply> {
  const completion = await readJson('openai', res, Completion, signal);
  // `.min(1)` above guarantees a first choice; the check only satisfies noUncheckedIndexedAccess.
  const choice = completion.choices[0];
  return {
    text: choice?.message.content ?? '',
    finish: choice?.finish_reason,
    refusal: choice?.message.refusal ?? '',
    usage: completion.usage,
  };
}

async function readStream(res: Response, { signal, onToken }: GenerateOptions): Promise<Reply> {
  const reply: Reply = { text: '', finish: undefined, refusal: '', usage: undefined };
  let done = false;
  for await (const { data } of providerSse('openai', res.body, signal)) {
    if (data === '[DONE]') {
      done = true;
      break;
    }
    const chunk = parseJson('openai', data, Chunk);
    if (chunk.error) throw new ProviderError('openai', 'server_error', `openai: stream failed: ${chunk.error.message.slice(0, 200)}`, true);
    const choice = chunk.choices[0];
    const delta = choice?.delta.content;
    if (delta) {
      reply.text += delta;
      onToken?.(delta);
    }
    reply.refusal += choice?.delta.refusal ?? '';
    reply.finish = choice?.finish_reason ?? reply.finish;
    reply.usage = chunk.usage ?? reply.usage;
  }
  // Servers that never send `[DONE]` still mark the last content chunk with a finish_reason.
  if (!done && !reply.finish) throw truncatedStream('openai');
  return reply;
}
