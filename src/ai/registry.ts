import { z } from '@hono/zod-openapi';
import { sha256Hex } from '../lib/crypto';
import { log } from '../lib/log';
import { AnthropicProvider } from './anthropic';
import { modelInfo, overridesOf } from './catalogue';
import { GoogleProvider } from './google';
import { LocalProvider } from './local';
import { OpenAIProvider } from './openai';
import {
  PROVIDERS,
  ProviderError,
  type AIProvider,
  type Fetcher,
  type GenerateOptions,
  type GenerateRequest,
  type GenerateResult,
  type ProviderName,
} from './types';
import { WorkersAIProvider, type WorkersAiBinding } from './workers-ai';
import { DEFAULT_MODELS } from './models';
import { cached } from '../cache';

/**
 * Provider configuration that is optional, so it is not in the generated `Env`: API keys are
 * secrets (`wrangler secret put OPENAI_API_KEY`), the rest optional variables. The Workers AI
 * binding (`[ai]` in wrangler.toml) is only present when configured.
 */
export type AiEnv = Env & {
  AI?: WorkersAiBinding;
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_MODEL?: string;
  ANTHROPIC_API_KEY?: string;
  ANTHROPIC_MODEL?: string;
  GOOGLE_API_KEY?: string;
  GOOGLE_MODEL?: string;
  WORKERS_AI_MODEL?: string;
  /** An AI Gateway id: Workers AI calls are then routed through it (`gateway: { id }`). */
  WORKERS_AI_GATEWAY?: string;
  /** Catalogue corrections and additions, JSON by provider and model (src/ai/catalogue.ts). */
  AI_MODELS?: string;
};

const isProvider = (s: string): s is ProviderName => (PROVIDERS as readonly string[]).includes(s);
const opt = (s: string | undefined) => (s?.trim() ? s.trim() : undefined);

const MODEL_VARS = {
  local: undefined,
  'workers-ai': 'WORKERS_AI_MODEL',
  openai: 'OPENAI_MODEL',
  anthropic: 'ANTHROPIC_MODEL',
  google: 'GOOGLE_MODEL',
} as const satisfies Record<ProviderName, keyof AiEnv | undefined>;

/** The model a provider uses when a call names none: its variable, else the catalogue's default. */
export function configuredModel(name: ProviderName, env: AiEnv): string {
  const variable = MODEL_VARS[name];
  return (variable && opt(env[variable])) || DEFAULT_MODELS[name];
}

export function createProvider(name: ProviderName, env: AiEnv, fetcher: Fetcher = (input, init) => fetch(input, init)): AIProvider {
  const describe = (model: string) => modelInfo(name, model, { env });
  const defaultModel = configuredModel(name, env);
  switch (name) {
    case 'local':
      return new LocalProvider();
    case 'workers-ai':
      return new WorkersAIProvider(env.AI, {
        defaultModel,
        describe,
        ...(opt(env.WORKERS_AI_GATEWAY) ? { gateway: opt(env.WORKERS_AI_GATEWAY)! } : {}),
      });
    case 'openai':
      return new OpenAIProvider(
        {
          apiKey: env.OPENAI_API_KEY ?? '',
          defaultModel,
          describe,
          ...(opt(env.OPENAI_BASE_URL) ? { baseUrl: opt(env.OPENAI_BASE_URL)! } : {}),
        },
        fetcher,
      );
    case 'anthropic':
      return new AnthropicProvider({ apiKey: env.ANTHROPIC_API_KEY ?? '', defaultModel, describe }, fetcher);
    case 'google':
      return new GoogleProvider({ apiKey: env.GOOGLE_API_KEY ?? '', defaultModel, describe }, fetcher);
  }
}

/**
 * Whether a provider is set up here: `local` always, Workers AI when the `[ai]` binding exists
 * (under `wrangler dev` without remote bindings it exists but every call fails as not configured,
 * which callers see at call time), the others when their API key is set.
 */
export function isConfigured(name: ProviderName, env: AiEnv): boolean {
  switch (name) {
    case 'local':
      return true;
    case 'workers-ai':
      return env.AI !== undefined;
    case 'openai':
      return Boolean(env.OPENAI_API_KEY);
    case 'anthropic':
      return Boolean(env.ANTHROPIC_API_KEY);
    case 'google':
      return Boolean(env.GOOGLE_API_KEY);
  }
}

/** The configured default provider (AI_PROVIDER), `local` when unset or unknown. */
export function defaultProvider(env: AiEnv): ProviderName {
  const p = opt(env.AI_PROVIDER);
  return p && isProvider(p) ? p : 'local';
}

/** The providers to try, in order: the requested one, then the fallbacks, without repeats. */
export function providerChain(env: AiEnv, requested?: ProviderName, fallback?: readonly ProviderName[]): ProviderName[] {
  const configured = (env.AI_FALLBACK_PROVIDERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(isProvider);
  return [...new Set([requested ?? defaultProvider(env), ...(fallback ?? configured)])];
}

/*
 * Results are cached (namespace `ai`, src/cache: this isolate's memory, then KV) only when the
 * call is deterministic — the local provider always is, and a network model at temperature 0 is
 * treated as such — keyed by the provider and a hash of the model, task, messages, parameters
 * and output schema, so one provider's entries can be cleared by prefix. A cache hit replays the text
 * as one token chunk.
 */
const deterministic = (provider: ProviderName, req: GenerateRequest) => provider === 'local' || req.temperature === 0;

const CachedResult = z.object({
  text: z.string(),
  provider: z.enum(PROVIDERS),
  model: z.string(),
  tokensIn: z.number(),
  tokensOut: z.number(),
  tokensReasoning: z.number().optional(),
  finishReason: z.enum(['stop', 'length', 'other']),
  rawFinishReason: z.string().optional(),
  json: z.unknown().optional(),
  jsonError: z.string().optional(),
});

async function cacheKey(provider: AIProvider, req: GenerateRequest): Promise<string> {
  const model = req.model ?? provider.defaultModel;
  // A structured call's schema is part of the key; a plain call's key is as it always was.
  const parts = [model, req.task ?? 'generate', req.messages, req.maxTokens ?? null, req.temperature ?? null];
  return `${provider.name}:${await sha256Hex(JSON.stringify(req.output ? [...parts, req.output] : parts))}`;
}

/**
 * Never an empty success: a network model that answers with no text (a reasoning model that
 * spent its whole budget thinking, a filtered answer, a stream parsed wrong) is asked once more,
 * and if the second answer is empty too the call fails for good with the provider's own finish
 * reason. Both calls' tokens are counted, since both were billed. The local provider is
 * deterministic: asking it again would give the same text.
 */
async function generateNonEmpty(env: AiEnv, provider: AIProvider, req: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
  const first = await provider.generate(req, options);
  if (first.text.trim() !== '' || provider.name === 'local') return first;
  log(env.LOG_LEVEL, 'warn', 'provider returned no text; asking once more', {
    provider: provider.name,
    model: first.model,
    finish: first.rawFinishReason,
  });
  const second = await provider.generate(req, options);
  if (second.text.trim() !== '') {
    const reasoning = (first.tokensReasoning ?? 0) + (second.tokensReasoning ?? 0);
    return {
      ...second,
      tokensIn: first.tokensIn + second.tokensIn,
      tokensOut: first.tokensOut + second.tokensOut,
      ...(reasoning > 0 ? { tokensReasoning: reasoning } : {}),
    };
  }
  const spent = second.tokensReasoning ? `, ${second.tokensReasoning} of them reasoning` : '';
  throw new ProviderError(
    provider.name,
    'empty_response',
    `${provider.name}: ${second.model} returned no text twice (finish reason ${second.rawFinishReason ?? second.finishReason}; ${second.tokensOut} output tokens${spent})`,
    false,
  );
}

/** Generates with one provider, through the cache when the call is deterministic. */
async function generateOnce(env: AiEnv, provider: AIProvider, req: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
  if (!deterministic(provider.name, req) || env.CACHE === undefined) return generateNonEmpty(env, provider, req, options);
  let generated = false;
  const result = await cached(
    { env, waitUntil: options.waitUntil },
    'ai',
    await cacheKey(provider, req),
    async () => {
      generated = true;
      const { cached: _, ...fresh } = await generateNonEmpty(env, provider, req, options);
      return fresh;
    },
    { schema: CachedResult },
  );
  if (generated) return result;
  options.onToken?.(result.text);
  return { ...result, cached: true };
}

export type ChainResult = GenerateResult & { fallbackFrom: ProviderName[] };

/**
 * Generates with the first provider of the chain that succeeds. A provider that is not
 * configured, or fails, hands over to the next; the error thrown when all fail is retryable if
 * any failure was, so the engine's retry policy can try the whole chain again later — and no
 * sooner than every retryable provider asked (`retryAfterMs`), when each of them gave advice.
 */
export async function generateWithChain(
  env: AiEnv,
  chain: readonly ProviderName[],
  req: GenerateRequest,
  options: GenerateOptions = {},
  fetcher?: Fetcher,
): Promise<ChainResult> {
  const failures: ProviderError[] = [];
  for (const name of chain) {
    const provider = createProvider(name, env, fetcher);
    try {
      const result = await generateOnce(env, provider, req, options);
      return { ...result, fallbackFrom: failures.map((f) => f.provider) };
    } catch (err) {
      if (!(err instanceof ProviderError) || err.code === 'aborted') throw err;
      failures.push(err);
      if (err.code !== 'not_configured')
        log(env.LOG_LEVEL, 'warn', 'provider failed', { provider: name, code: err.code, error: err.message });
    }
  }
  const last = failures.at(-1);
  const retryable = failures.filter((f) => f.retryable);
  const summary = failures.map((f) => f.message).join('; ');
  // The next attempt can succeed as soon as one retryable provider can: the smallest advice, and
  // none at all if any retryable provider gave none.
  const advised = retryable.map((f) => f.retryAfterMs);
  const retryAfterMs = advised.length > 0 && advised.every((ms) => ms !== undefined) ? Math.min(...(advised as number[])) : undefined;
  throw new ProviderError(
    last?.provider ?? 'local',
    last?.code ?? 'not_configured',
    summary || 'no provider configured',
    retryable.length > 0,
    last?.status,
    retryAfterMs,
  );
}

/** The catalogue entry of the model a provider would use here, and any problem with AI_MODELS. */
export function configuredModelInfo(name: ProviderName, env: AiEnv, at: Date = new Date()) {
  return {
    info: modelInfo(name, configuredModel(name, env), { env, at }),
    /** The variable that chooses the model. */
    setting: MODEL_VARS[name] ?? 'the model',
    problem: overridesOf(env).problem,
  };
}
