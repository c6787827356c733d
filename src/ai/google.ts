import { z } from 'zod';
import { modelInfo, type ModelInfo } from './catalogue';
import { modelContext } from './errors';
import { DEFAULT_MODELS } from './models';
import {
  ProviderError,
  estimateTokens,
  type AIProvider,
  type ChatMessage,
  type Fetcher,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
} from './types';
import { parseJson, postJson, providerSse, readJson, requireKey, truncatedStream } from './sse';
import { requireStructuredSupport, structuredFields } from './structured';

/*
 * Google Gemini through the Generative Language API (generateContent / streamGenerateContent).
 * Its dialect differs from the chat APIs: turns are `contents` with roles `user` and `model`, the
 * system prompt is a separate `systemInstruction`, and sampling options sit in `generationConfig`.
 * Current models think before they answer: `thoughtsTokenCount` is billed as output but is not
 * part of `candidatesTokenCount`, so the two are added for the output tokens.
 * Structured output is `responseMimeType: 'application/json'` with the schema as
 * `responseJsonSchema` (JSON Schema; `responseSchema` takes Google's OpenAPI-style Schema, and
 * @google/genai 2.32 moves a JSON Schema given there to `responseJsonSchema`). Any root type is
 * accepted; the API ignores keywords it does not support (it documents neither const nor string
 * lengths), which the caller's validation still checks.
 */

export type GoogleConfig = {
  apiKey: string;
  /** Default: the catalogue's current Gemini default. */
  defaultModel?: string;
  /** Default 'https://generativelanguage.googleapis.com/v1beta'. */
  baseUrl?: string;
  /** The catalogue's view of a model; default: the built-in catalogue, without AI_MODELS corrections. */
  describe?: (model: string) => ModelInfo;
};

const Candidate = z.object({
  // `content` is missing when the candidate was stopped for safety before producing any text.
  content: z.object({ parts: z.array(z.object({ text: z.string().optional(), thought: z.boolean().optional() })).optional() }).optional(),
  finishReason: z.string().optional(),
});

// One schema serves both modes: each streamed chunk is a GenerateContentResponse of its own.
const GenerateContentResponse = z.object({
  candidates: z.array(Candidate).optional(),
  // Set instead of `candidates` when the prompt itself was blocked.
  promptFeedback: z.object({ blockReason: z.string().optional() }).optional(),
  // Counts are omitted when zero; in a stream, each chunk carries the running totals.
  usageMetadata: z
    .object({
      promptTokenCount: z.number().optional(),
      candidatesTokenCount: z.number().optional(),
      thoughtsTokenCount: z.number().optional(),
    })
    .optional(),
});
type GeminiResponse = z.infer<typeof GenerateContentResponse>;

type Reply = { text: string; finish: string | undefined; usage: GeminiResponse['usageMetadata'] };

export class GoogleProvider implements AIProvider {
  readonly name = 'google';
  readonly defaultModel: string;
  // `#` fields stay out of JSON.stringify and console.log of the provider, so the key does too.
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #describe: (model: string) => ModelInfo;
  readonly #fetch: Fetcher;

  constructor(config: GoogleConfig, fetch: Fetcher) {
    this.#apiKey = config.apiKey;
    this.#baseUrl = (config.baseUrl ?? 'https://generativelanguage.googleapis.com/v1beta').replace(/\/+$/, '');
    this.defaultModel = config.defaultModel ?? DEFAULT_MODELS.google;
    this.#describe = config.describe ?? ((model) => modelInfo('google', model));
    this.#fetch = fetch;
  }

  contextWindow(model: string): number {
    return this.#describe(model).contextWindow;
  }

  requestBody(request: GenerateRequest, model: string) {
    const system = request.messages.filter((m) => m.role === 'system').map((m) => m.content);
    const temperature = this.#describe(model).capabilities.temperature ? request.temperature : undefined;
    return {
      contents: request.messages.flatMap((m) => (m.role === 'system' ? [] : [{ role: geminiRole(m.role), parts: [{ text: m.content }] }])),
      // The role is ignored by the API; it is what the official SDK (@google/genai) sends.
      systemInstruction: system.length > 0 ? { parts: [{ text: system.join('\n\n') }], role: 'user' } : undefined,
      generationConfig: {
        maxOutputTokens: request.maxTokens,
        temperature,
        ...(request.output ? { responseMimeType: 'application/json', responseJsonSchema: request.output.schema } : {}),
      },
    };
  }

  async generate(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateResult> {
    const apiKey = requireKey('google', this.#apiKey);
    const model = request.model ?? this.defaultModel;
    if (request.output) requireStructuredSupport('google', this.#describe(model), model);
    const stream = request.stream === true;
    // The model id is a path segment: encoding it keeps a caller-chosen id from reaching another
    // endpoint with our key. Real ids (letters, digits, '.', '-') pass through unchanged.
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const url = `${this.#baseUrl}/models/${encodeURIComponent(model)}:${method}`;
    // The key goes in a header rather than `?key=`, so it never lands in a logged URL.
    const headers = { 'x-goog-api-key': apiKey, 'content-type': 'application/json' };
    const context = modelContext('google', request.model, model);
    const res = await postJson('google', this.#fetch, url, headers, this.requestBody(request, model), options.signal, context);
    const reply = stream
      ? await readStream(res, options)
      : fromResponse(await readJson('google', res, GenerateContentResponse, options.signal), true);
    const usage = reply.usage;
    const thoughts = usage?.thoughtsTokenCount ?? 0;
    const answer = usage?.candidatesTokenCount;
    return {
      text: reply.text,
      provider: 'google',
      model,
      tokensIn: usage?.promptTokenCount ?? estimateTokens(request.messages.map((m) => m.content).join('\n')),
      tokensOut: answer !== undefined || thoughts > 0 ? (answer ?? 0) + thoughts : estimateTokens(reply.text),
      ...(thoughts > 0 ? { tokensReasoning: thoughts } : {}),
      finishReason: reply.finish === 'STOP' ? 'stop' : reply.finish === 'MAX_TOKENS' ? 'length' : 'other',
      ...(reply.finish ? { rawFinishReason: reply.finish } : {}),
      ...structuredFields(request.output, reply.text, false),
    };
  }
}

const geminiRole = (role: Exclude<ChatMessage['role'], 'system'>) => (role === 'assistant' ? 'model' : 'user');

/**
 * Text of the first candidate; `thought` parts are the model's reasoning, not its answer.
 * A reply must have a candidate; a stream chunk without one may still carry usage.
 */
function fromResponse(response: GeminiResponse, needCandidate: boolean): Reply {
  const blocked = response.promptFeedback?.blockReason;
  if (blocked) throw new ProviderError('google', 'bad_request', `google: prompt blocked (${blocked})`, false);
  const candidate = response.candidates?.[0];
  if (!candidate && needCandidate) throw new ProviderError('google', 'invalid_response', 'google: response has no candidates', true);
  const parts = candidate?.content?.parts ?? [];
  const text = parts.map((part) => (part.thought ? '' : (part.text ?? ''))).join('');
  return { text, finish: candidate?.finishReason, usage: response.usageMetadata };
}

async function readStream(res: Response, { signal, onToken }: GenerateOptions): Promise<Reply> {
  const reply: Reply = { text: '', finish: undefined, usage: undefined };
  // No `[DONE]` sentinel: the stream just ends, and the last chunk carries the finishReason.
  for await (const { data } of providerSse('google', res.body, signal)) {
    const chunk = fromResponse(parseJson('google', data, GenerateContentResponse), false);
    if (chunk.text) {
      reply.text += chunk.text;
      onToken?.(chunk.text);
    }
    reply.finish = chunk.finish ?? reply.finish;
    reply.usage = chunk.usage ?? reply.usage;
  }
  if (!reply.finish) throw truncatedStream('google');
  return reply;
}
