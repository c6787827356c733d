import type { ProviderName } from '../db/schema';

/*
 * The built-in model catalogue: what each provider serves, what it costs and what each model
 * accepts. Every figure was read on CHECKED from the source named beside it. Where the stored
 * material did not confirm a figure it is left out (`price: null`, `maxOutput: null`) rather than
 * guessed, and `note` says so. Deployments correct or extend it without a code change through the
 * AI_MODELS variable (src/ai/catalogue.ts); docs/api/ai.md lists the defaults and their dates.
 */

export const CHECKED = '2026-12-07';

/** USD per million tokens. */
export type Price = { inputPerMTok: number; outputPerMTok: number; cachedInputPerMTok?: number };

export type Capabilities = {
  streaming: boolean;
  structuredOutput: boolean;
  tools: boolean;
  /** Accepts sampling parameters (temperature, top_p); when false they are left out of requests. */
  temperature: boolean;
  /** Spends output tokens on reasoning before it answers (reported as reasoning tokens). */
  reasoning: boolean;
};

export type ModelEntry = {
  provider: ProviderName;
  model: string;
  /** Other ids the provider accepts for the same model (dated snapshots, aliases). */
  aliases?: readonly string[];
  contextWindow: number;
  /** Largest output the model can produce; null where not documented. */
  maxOutput: number | null;
  /** List price; null where the provider's price could not be confirmed. */
  price: Price | null;
  /** A higher price for the whole request once its input passes a size. */
  longContext?: { aboveInputTokens: number; price: Price };
  /** Announced list-price changes, oldest first: from `date` (UTC, inclusive) `price` applies. */
  priceFrom?: readonly { date: string; price: Price }[];
  capabilities: Capabilities;
  /** When the provider announced the model's retirement. */
  deprecated?: string;
  /** From this date (UTC) the provider no longer serves the model. */
  retires?: string;
  replacement?: string;
  source: string;
  note?: string;
};

const chat = (over: Partial<Capabilities> = {}): Capabilities => ({
  streaming: true,
  structuredOutput: true,
  tools: true,
  temperature: true,
  reasoning: false,
  ...over,
});
const reasoningChat = chat({ temperature: false, reasoning: true });

const OPENAI_MODELS = 'https://developers.openai.com/api/docs/models';
const OPENAI_DEPRECATIONS = 'https://developers.openai.com/api/docs/deprecations';
const ANTHROPIC_MODELS = 'https://platform.claude.com/docs/en/models/overview';
const ANTHROPIC_DEPRECATIONS = 'https://platform.claude.com/docs/en/about-claude/model-deprecations';
const GEMINI_PRICING = 'https://ai.google.dev/gemini-api/docs/pricing';
const GEMINI_DEPRECATIONS = 'https://ai.google.dev/gemini-api/docs/deprecations';
const WORKERS_AI_PRICING = 'https://developers.cloudflare.com/workers-ai/platform/pricing/';
const WORKERS_AI_DEPRECATIONS = 'https://developers.cloudflare.com/changelog/post/2026-05-08-planned-model-deprecations/';
const THIRD_PARTY = 'price from third-party listings quoting the provider; not confirmed on the provider page';

// Anthropic's API version 2026-10-21 (the one this adapter sends) rejects temperature, top_p and
// top_k on every model, so no Claude entry accepts sampling parameters.
const claude = (over: Partial<Capabilities> = {}) => chat({ temperature: false, ...over });

export const MODELS: readonly ModelEntry[] = [
  // ---- OpenAI ------------------------------------------------------------------------------
  {
    provider: 'openai',
    model: 'gpt-6-luna',
    contextWindow: 1_050_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 0.1, outputPerMTok: 0.5, cachedInputPerMTok: 0.01 },
    // "Above 272K input tokens the whole request bills input at 2x and output at 1.5x."
    longContext: { aboveInputTokens: 272_000, price: { inputPerMTok: 0.2, outputPerMTok: 0.75, cachedInputPerMTok: 0.02 } },
    // Reasoning effort defaults to medium; temperature is refused unless effort is none, which we never send.
    capabilities: reasoningChat,
    source: `${OPENAI_MODELS}/gpt-6-luna`,
  },
  {
    provider: 'openai',
    model: 'gpt-6.1-terra',
    contextWindow: 1_050_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.05 },
    capabilities: reasoningChat,
    source: OPENAI_MODELS,
    note: THIRD_PARTY,
  },
  {
    provider: 'openai',
    model: 'gpt-6.1-sol',
    contextWindow: 1_050_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 2, outputPerMTok: 10, cachedInputPerMTok: 0.1 },
    capabilities: reasoningChat,
    source: OPENAI_MODELS,
    note: THIRD_PARTY,
  },
  {
    provider: 'openai',
    model: 'gpt-6-astra',
    contextWindow: 1_050_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 10, outputPerMTok: 50, cachedInputPerMTok: 1 },
    capabilities: reasoningChat,
    source: OPENAI_MODELS,
    note: `${THIRD_PARTY}; requests above 272K input tokens bill at a multiple that was not confirmed`,
  },
  {
    provider: 'openai',
    model: 'gpt-4o-mini',
    aliases: ['gpt-4o-mini-2024-07-18'],
    contextWindow: 128_000,
    maxOutput: 16_384,
    price: { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075 },
    capabilities: chat(),
    deprecated: '2026-10-14',
    retires: '2027-01-14',
    replacement: 'gpt-6-luna',
    source: OPENAI_DEPRECATIONS,
  },
  ...(['gpt-4o', 'gpt-4.1', 'gpt-4.1-mini'] as const).map(
    (model): ModelEntry => ({
      provider: 'openai',
      model,
      contextWindow: model === 'gpt-4o' ? 128_000 : 1_047_576,
      maxOutput: model === 'gpt-4o' ? 16_384 : 32_768,
      price: null,
      capabilities: chat(),
      deprecated: '2026-10-14',
      retires: '2027-01-14',
      replacement: model === 'gpt-4.1-mini' ? 'gpt-6-luna' : 'gpt-6.1-sol',
      source: OPENAI_DEPRECATIONS,
    }),
  ),
  ...(['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'o3'] as const).map(
    (model): ModelEntry => ({
      provider: 'openai',
      model,
      contextWindow: 400_000,
      maxOutput: 128_000,
      price: null,
      capabilities: reasoningChat,
      deprecated: '2026-06-11',
      retires: '2026-12-11',
      replacement: model === 'gpt-5' || model === 'o3' ? 'gpt-6.1-sol' : 'gpt-6.1-terra',
      source: OPENAI_DEPRECATIONS,
    }),
  ),
  ...(['gpt-3.5-turbo', 'gpt-4', 'gpt-4-turbo', 'gpt-4.1-nano', 'o1', 'o3-mini', 'o4-mini'] as const).map(
    (model): ModelEntry => ({
      provider: 'openai',
      model,
      contextWindow: 8_192,
      maxOutput: null,
      price: null,
      capabilities: model.startsWith('o') ? reasoningChat : chat(),
      retires: '2026-10-23',
      replacement: model === 'gpt-3.5-turbo' || model === 'o4-mini' ? 'gpt-5.6-terra' : 'gpt-5.6-sol',
      source: OPENAI_DEPRECATIONS,
    }),
  ),

  // ---- Anthropic ---------------------------------------------------------------------------
  {
    provider: 'anthropic',
    model: 'claude-haiku-5-5',
    contextWindow: 1_000_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 0.1, outputPerMTok: 0.5 },
    longContext: { aboveInputTokens: 100_000, price: { inputPerMTok: 0.5, outputPerMTok: 2.5 } },
    // Adaptive thinking at effort "medium" by default: thinking tokens are part of output_tokens.
    capabilities: claude({ reasoning: true }),
    source: 'https://platform.claude.com/docs/en/models/haiku-5-5/overview',
  },
  {
    provider: 'anthropic',
    model: 'claude-sonnet-5-5',
    contextWindow: 1_000_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 2, outputPerMTok: 10 },
    capabilities: claude({ reasoning: true }),
    source: ANTHROPIC_MODELS,
  },
  {
    provider: 'anthropic',
    model: 'claude-opus-5-5',
    contextWindow: 1_000_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 4, outputPerMTok: 20 },
    capabilities: claude({ reasoning: true }),
    source: ANTHROPIC_MODELS,
  },
  {
    provider: 'anthropic',
    model: 'claude-fable-5-2',
    contextWindow: 1_000_000,
    maxOutput: 128_000,
    price: { inputPerMTok: 8, outputPerMTok: 40 },
    capabilities: claude({ reasoning: true }),
    source: ANTHROPIC_MODELS,
  },
  {
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    aliases: ['claude-haiku-4-5-20251001'],
    contextWindow: 200_000,
    maxOutput: 64_000,
    price: { inputPerMTok: 1, outputPerMTok: 5 },
    capabilities: claude(),
    source: ANTHROPIC_MODELS,
  },
  {
    provider: 'anthropic',
    model: 'claude-opus-4-5',
    aliases: ['claude-opus-4-5-20251101'],
    contextWindow: 200_000,
    maxOutput: 64_000,
    price: null,
    capabilities: claude(),
    retires: '2027-01-22',
    replacement: 'claude-opus-5-5',
    source: 'the deprecation list shipped in @anthropic-ai/sdk 1.17.0 (internal/data/deprecated-models)',
  },
  ...(
    [
      ['claude-3-5-haiku', ['claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022'], '2026-02-19', 'claude-haiku-5-5'],
      ['claude-sonnet-4', ['claude-sonnet-4-0', 'claude-sonnet-4-20250514'], '2026-06-15', 'claude-sonnet-5-5'],
      ['claude-opus-4', ['claude-opus-4-0', 'claude-opus-4-20250514'], '2026-06-15', 'claude-opus-5-5'],
    ] as const
  ).map(
    ([model, aliases, retires, replacement]): ModelEntry => ({
      provider: 'anthropic',
      model,
      aliases,
      contextWindow: 200_000,
      maxOutput: null,
      price: null,
      capabilities: claude(),
      retires,
      replacement,
      source: ANTHROPIC_DEPRECATIONS,
    }),
  ),

  // ---- Google Gemini -----------------------------------------------------------------------
  {
    provider: 'google',
    model: 'gemini-3.8-flash',
    contextWindow: 1_048_576,
    maxOutput: 65_536,
    // An introductory price until the end of 2026, then the list price.
    price: { inputPerMTok: 0.75, outputPerMTok: 3.75, cachedInputPerMTok: 0.075 },
    priceFrom: [{ date: '2027-01-01', price: { inputPerMTok: 1.5, outputPerMTok: 7.5, cachedInputPerMTok: 0.15 } }],
    // Thinking levels LOW/MEDIUM/HIGH, MEDIUM by default: thoughts are billed as output.
    capabilities: chat({ reasoning: true }),
    source: GEMINI_PRICING,
  },
  {
    provider: 'google',
    model: 'gemini-3.5-flash-lite',
    contextWindow: 1_048_576,
    maxOutput: 65_536,
    price: { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.03 },
    capabilities: chat({ reasoning: true }),
    source: GEMINI_DEPRECATIONS,
    note: THIRD_PARTY,
  },
  {
    provider: 'google',
    model: 'gemini-3.1-flash-lite',
    contextWindow: 1_048_576,
    maxOutput: 65_536,
    price: { inputPerMTok: 0.25, outputPerMTok: 1.5 },
    capabilities: chat({ reasoning: true }),
    retires: '2027-05-07',
    source: GEMINI_DEPRECATIONS,
    note: THIRD_PARTY,
  },
  {
    provider: 'google',
    model: 'gemini-2.5-flash-lite',
    contextWindow: 1_048_576,
    maxOutput: 65_536,
    price: { inputPerMTok: 0.1, outputPerMTok: 0.4 },
    capabilities: chat({ reasoning: true }),
    source: GEMINI_PRICING,
    note: THIRD_PARTY,
  },
  ...(
    [
      ['gemini-2.0-flash', ['gemini-2.0-flash-001'], '2026-06-01', 'gemini-2.5-flash-lite'],
      ['gemini-2.0-flash-lite', ['gemini-2.0-flash-lite-001'], '2026-06-01', 'gemini-2.5-flash-lite'],
      ['gemini-2.5-flash', [], '2026-12-01', 'gemini-3.5-flash-lite'],
      ['gemini-2.5-pro', [], '2026-12-01', 'gemini-3.8-flash'],
    ] as const
  ).map(
    ([model, aliases, retires, replacement]): ModelEntry => ({
      provider: 'google',
      model,
      aliases,
      contextWindow: 1_048_576,
      maxOutput: null,
      price: null,
      capabilities: chat({ reasoning: model.startsWith('gemini-2.5') }),
      retires,
      replacement,
      source: GEMINI_DEPRECATIONS,
    }),
  ),

  // ---- Workers AI --------------------------------------------------------------------------
  // structuredOutput here means JSON mode (`response_format` json_schema). Cloudflare's JSON mode
  // page lists only older models; Gemma 4's model page lists the parameter. For the other active
  // models it is assumed from notes on their input schemas, not confirmed: AI_MODELS corrects it.
  {
    provider: 'workers-ai',
    model: '@cf/google/gemma-4-26b-a4b-it',
    contextWindow: 256_000,
    maxOutput: null,
    price: { inputPerMTok: 0.1, outputPerMTok: 0.3 },
    // Its thinking mode is optional; whether it is on by default is not documented in what we read.
    capabilities: chat(),
    source: WORKERS_AI_PRICING,
  },
  {
    provider: 'workers-ai',
    model: '@cf/zai-org/glm-4.7-flash',
    contextWindow: 131_072,
    maxOutput: null,
    price: { inputPerMTok: 0.06, outputPerMTok: 0.4 },
    // Reasons before it answers: a small max_tokens can be spent entirely on reasoning.
    capabilities: chat({ reasoning: true }),
    source: WORKERS_AI_PRICING,
  },
  {
    provider: 'workers-ai',
    model: '@cf/meta/llama-4-scout-17b-16e-instruct',
    contextWindow: 131_000,
    maxOutput: null,
    price: { inputPerMTok: 0.27, outputPerMTok: 0.85 },
    capabilities: chat(),
    source: WORKERS_AI_PRICING,
  },
  {
    provider: 'workers-ai',
    model: '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
    contextWindow: 24_000,
    maxOutput: null,
    price: { inputPerMTok: 0.293, outputPerMTok: 2.253 },
    capabilities: chat(),
    source: WORKERS_AI_PRICING,
  },
  {
    provider: 'workers-ai',
    model: '@cf/qwen/qwen3-30b-a3b-fp8',
    contextWindow: 32_000,
    maxOutput: null,
    price: { inputPerMTok: 0.051, outputPerMTok: 0.335 },
    capabilities: chat({ reasoning: true }),
    source: WORKERS_AI_PRICING,
  },
  {
    provider: 'workers-ai',
    model: '@cf/openai/gpt-oss-20b',
    contextWindow: 128_000,
    maxOutput: null,
    price: { inputPerMTok: 0.2, outputPerMTok: 0.3 },
    capabilities: chat({ reasoning: true }),
    source: WORKERS_AI_PRICING,
    note: 'the context window was not confirmed on the Cloudflare model page',
  },
  ...(
    [
      '@cf/meta/llama-3.1-8b-instruct',
      '@cf/meta/llama-3.1-8b-instruct-awq',
      '@cf/meta/llama-3-8b-instruct',
      '@cf/meta/llama-3.1-70b-instruct',
      '@cf/mistral/mistral-7b-instruct-v0.1',
      '@cf/google/gemma-3-12b-it',
    ] as const
  ).map(
    (model): ModelEntry => ({
      provider: 'workers-ai',
      model,
      contextWindow: 8_192,
      maxOutput: null,
      price: null,
      capabilities: chat({ tools: false, structuredOutput: false }),
      deprecated: '2026-05-08',
      retires: '2026-05-30',
      replacement: '@cf/google/gemma-4-26b-a4b-it',
      source: WORKERS_AI_DEPRECATIONS,
    }),
  ),

  // ---- local -------------------------------------------------------------------------------
  {
    provider: 'local',
    model: 'local-extractive-v1',
    // Not a limit of the algorithms: what prompts are budgeted to, so local runs resemble model runs.
    contextWindow: 8_192,
    maxOutput: null,
    price: { inputPerMTok: 0, outputPerMTok: 0 },
    // Structured output: schema-valid JSON filled with the prompt's material (src/ai/text/fill.ts), not model output.
    capabilities: { streaming: true, structuredOutput: true, tools: false, temperature: false, reasoning: false },
    source: 'src/ai/local.ts: offline text algorithms, no cost',
  },
];

/** The model each provider uses when none is configured: current and served on CHECKED. */
export const DEFAULT_MODELS: Readonly<Record<ProviderName, string>> = {
  local: 'local-extractive-v1',
  // `satisfies`: the pinned @cloudflare/workers-types types this model's inputs and output (AiModels).
  'workers-ai': '@cf/google/gemma-4-26b-a4b-it' satisfies keyof AiModels,
  openai: 'gpt-6-luna',
  anthropic: 'claude-haiku-5-5',
  google: 'gemini-3.8-flash',
};

/**
 * What a model the catalogue does not list is assumed to be, by provider and id pattern, first
 * match wins. Conservative windows keep prompt budgets safe; no price, since none is known.
 */
export const FAMILIES: readonly { provider: ProviderName; pattern: RegExp; contextWindow: number; capabilities: Capabilities }[] = [
  // OpenAI's o-series and GPT-5 onwards are reasoning models that refuse sampling parameters.
  { provider: 'openai', pattern: /^(o\d|gpt-([5-9]|\d\d))/, contextWindow: 128_000, capabilities: reasoningChat },
  { provider: 'anthropic', pattern: /^claude-/, contextWindow: 200_000, capabilities: claude() },
  { provider: 'google', pattern: /^gemini-([3-9]|2\.5)/, contextWindow: 1_048_576, capabilities: chat({ reasoning: true }) },
  { provider: 'google', pattern: /^gemini-/, contextWindow: 1_048_576, capabilities: chat() },
];
