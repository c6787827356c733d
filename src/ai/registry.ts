import { z } from '@hono/zod-openapi';
import { sha256Hex } from '../lib/crypto';
import { log } from '../lib/log';
import { AnthropicProvider } from './anthropic';
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
};

const isProvider = (s: string): s is ProviderName => (PROVIDERS as readonly string[]).includes(s);
const opt = (s: string | undefined) => (s?.trim() ? s.trim() : undefined);

export function createProvider(name: ProviderName, env: AiEnv, fetcher: Fetcher = (input, init) => fetch(input, init)): AIProvider {
  switch (name) {
    case 'local':
      return new LocalProvider();
    case 'workers-ai':
      return new WorkersAIProvider(env.AI, { ...(opt(env.WORKERS_AI_MODEL) ? { defaultModel: opt(env.WORKERS_AI_MODEL)! } : {}) });
    case 'openai':
      return new OpenAIProvider(
        {
          apiKey: env.OPENAI_API_KEY ?? '',
          ...(opt(env.OPENAI_BASE_URL) ? { baseUrl: opt(env.OPENAI_BASE_URL)! } : {}),
          ...(opt(env.OPENAI_MODEL) ? { defaultModel: opt(env.OPENAI_MODEL)! } : {}),
        },
        fetcher,
      );
    case 'anthropic':
      return new AnthropicProvider(
        { apiKey: env.ANTHROPIC_API_KEY ?? '', ...(opt(env.ANTHROPIC_MODEL) ? { defaultModel: opt(env.ANTHROPIC_MODEL)! } : {}) },
        fetcher,
      );
    case 'google':
      return new GoogleProvider(
        { apiKey: env.GOOGLE_API_KEY ?? '', ...(opt(env.GOOGLE_MODEL) ? { defaultModel: opt(env.GOOGLE_MODEL)! } : {}) },
        fetcher,
      );
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
 * treated as such — keyed by the provider and a hash of the model, task, messages and
 * parameters, so one provider's entries can be cleared by prefix. A cache hit replays the text
 * as one token chunk.
 */
const deterministic = (provider: ProviderName, req: GenerateRequest) => provider === 'local' || req.temperature === 0;

const CachedResult = z.object({
  text: z.string(),
  provider: z.enum(PROVIDERS),
  model: z.string(),
  tokensIn: z.number(),
  tokensOut: z.number(),
  finishReason: z.enum(['stop', 'length', 'other']),
});

async function cacheKey(provider: AIProvider, req: GenerateRequest): Promise<string> {
  const model = req.model ?? provider.defaultModel;
  return `${provider.name}:${await sha256Hex(JSON.stringify([model, req.task ?? 'generate', req.messages, req.maxTokens ?? null, req.temperature ?? null]))}`;
}

/** Generates with one provider, through the cache when the call is deterministic. */
async function generateOnce(env: AiEnv, provider: AIProvider, req: GenerateRequest, options: GenerateOptions): Promise<GenerateResult> {
  if (!deterministic(provider.name, req) || env.CACHE === undefined) return provider.generate(req, options);
  let generated = false;
  const result = await cached(
    { env, waitUntil: options.waitUntil },
    'ai',
    await cacheKey(provider, req),
    async () => {
      generated = true;
      const { cached: _, ...fresh } = await provider.generate(req, options);
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
 * any failure was, so the engine's retry policy can try the whole chain again later.
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
  const retryable = failures.some((f) => f.retryable);
  const summary = failures.map((f) => f.message).join('; ');
  throw new ProviderError(
    last?.provider ?? 'local',
    last?.code ?? 'not_configured',
    summary || 'no provider configured',
    retryable,
    last?.status,
  );
}
