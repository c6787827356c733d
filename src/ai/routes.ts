import { createRoute, z } from '@hono/zod-openapi';
import { JsonSchemaSubset, validateJson } from '../engine';
import { ANY_ROLE, WRITERS } from '../lib/access';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { LANGUAGE_MODEL_PROVIDERS } from './local';
import { generateWithChain, isConfigured, providerChain, type AiEnv } from './registry';
import { analyzeText, ANALYSIS_KINDS } from './text/analyze';
import { PROVIDERS, ProviderError, type ProviderName, TASKS } from './types';

const GenerateBody = z
  .strictObject({
    prompt: z.string().min(1).max(100_000).openapi({ example: 'Generate a workflow description' }),
    system: z.string().max(20_000).optional(),
    provider: z.enum(PROVIDERS).optional().openapi({
      description:
        'The provider to use. Named here, it is the only one tried (422 `provider_not_configured` when it is not set up) unless `allow_fallback` or `fallback_providers` says otherwise; left out, AI_PROVIDER and then AI_FALLBACK_PROVIDERS are tried',
      example: 'workers-ai',
    }),
    allow_fallback: z.boolean().optional().openapi({
      description: 'With `provider`: try the fallbacks (AI_FALLBACK_PROVIDERS) when it is not configured or fails',
    }),
    fallback_providers: z
      .array(z.enum(PROVIDERS))
      .max(PROVIDERS.length)
      .optional()
      .openapi({ description: 'Tried in order after `provider`; defaults to AI_FALLBACK_PROVIDERS' }),
    model: z.string().min(1).max(100).optional(),
    max_tokens: z.number().int().min(1).max(8192).optional(),
    temperature: z.number().min(0).max(2).optional(),
    task: z.enum(TASKS).default('generate'),
    output_schema: JsonSchemaSubset.optional().openapi({
      description:
        "Ask for JSON matching this schema (the subset docs/engine.md lists), in each provider's native structured-output mode; the answer's `json` and `json_errors` say what came back",
    }),
  })
  .openapi('GenerateRequest');

const GenerateResponse = z
  .object({
    text: z.string(),
    provider: z.enum(PROVIDERS),
    model: z.string(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int().openapi({ description: 'Every output token billed, reasoning included' }),
    tokens_reasoning: z
      .number()
      .int()
      .openapi({ description: 'The part of tokens_out the model spent reasoning (0 when it reports none)' }),
    finish_reason: z.enum(['stop', 'length', 'other']),
    cached: z.boolean(),
    fallback_from: z.array(z.enum(PROVIDERS)).openapi({ description: 'Providers tried first that were not configured or failed' }),
    language_model: z.boolean().openapi({
      description: 'Whether a language model wrote the text; false for the `local` provider, whose text comes from text algorithms',
    }),
    notice: z.string().optional().openapi({ description: 'Present when no language model wrote the text, saying so' }),
    json: z.unknown().optional().openapi({ description: 'With `output_schema`: the answer parsed as JSON, null when it is not JSON' }),
    json_errors: z.array(z.string()).optional().openapi({
      description:
        'With `output_schema`: why `json` is not a value of the schema (not JSON, or where it differs, as `$.sections.2.title: …`); empty when it is. No repair is attempted here',
    }),
  })
  .openapi('GenerateResponse');

const AnalyzeBody = z
  .strictObject({
    text: z.string().min(1).max(500_000),
    analyses: z.array(z.enum(ANALYSIS_KINDS)).min(1).max(ANALYSIS_KINDS.length).optional(),
  })
  .openapi('AnalyzeRequest');

const AnalysisSchema = z.record(z.string(), z.unknown()).openapi('TextAnalysis');

const generateRoute = (path: string, operationId: string, summary: string) =>
  createRoute(
    withAccess(
      { roles: WRITERS, scope: 'ai:use' },
      {
        method: 'post',
        path,
        operationId,
        tags: ['ai'],
        summary,
        request: { body: jsonBody(GenerateBody) },
        responses: {
          200: jsonResponse(GenerateResponse, 'Generated text'),
          ...errorResponses('validation_error', 'provider_not_configured', 'unsupported_by_provider', 'service_unavailable'),
        },
      },
    ),
  );

const analyzeRoute = (path: string, operationId: string, summary: string) =>
  createRoute(
    withAccess(
      { roles: ANY_ROLE, scope: 'ai:use' },
      {
        method: 'post',
        path,
        operationId,
        tags: ['ai'],
        summary,
        request: { body: jsonBody(AnalyzeBody) },
        responses: {
          200: jsonResponse(AnalysisSchema, 'Sentiment, keywords, readability, language and quality'),
          ...errorResponses('validation_error'),
        },
      },
    ),
  );

/** The answer's JSON and how it falls short of the schema: not JSON at all, or the validator's findings. */
function structuredView(schema: Record<string, unknown>, r: { json?: unknown; jsonError?: string }) {
  if (r.jsonError !== undefined) return { json: null, json_errors: [r.jsonError] };
  const checked = validateJson(schema, r.json);
  return { json: r.json ?? null, json_errors: checked.valid ? [] : checked.errors };
}

/** What an answer of the local provider says about itself. */
export const LOCAL_NOTICE =
  'Not written by a language model: the local provider built this text with text algorithms from the prompt itself.';

/** 422 for a provider the request named that is not set up here, naming what would set it up. */
function notConfigured(provider: ProviderName, why?: string): ApiError {
  const setup =
    provider === 'workers-ai' ? 'the [ai] binding, on Cloudflare or with `npm run dev:ai`' : `the ${provider.toUpperCase()}_API_KEY secret`;
  return new ApiError(
    'provider_not_configured',
    `The ${provider} provider is not configured here (it needs ${setup}); leave \`provider\` out, or send "allow_fallback": true to use the fallbacks`,
    { details: { provider, ...(why ? { reason: why } : {}) } },
  );
}

/** Mounted at /api/v3/ai (canonical) and /api/v3/advanced/ai (the seeds' paths). */
export function aiRoutes(prefix: 'canonical' | 'seeds') {
  const id = (name: string) => (prefix === 'canonical' ? name : `${name}Advanced`);
  return createRouter()
    .openapi(
      generateRoute(
        '/generate',
        id('generateText'),
        'Generate text with the AI layer (provider fallback, KV cache for deterministic calls)',
      ),
      async (c) => {
        const body = c.req.valid('json');
        const env: AiEnv = c.env;
        const strict = body.provider !== undefined && !body.allow_fallback && body.fallback_providers === undefined;
        if (strict && !isConfigured(body.provider!, env)) throw notConfigured(body.provider!);
        try {
          const r = await generateWithChain(
            env,
            strict ? [body.provider!] : providerChain(env, body.provider, body.fallback_providers),
            {
              task: body.task,
              messages: [
                ...(body.system ? [{ role: 'system' as const, content: body.system }] : []),
                { role: 'user' as const, content: body.prompt },
              ],
              model: body.model,
              maxTokens: body.max_tokens,
              temperature: body.temperature,
              ...(body.output_schema ? { output: { name: 'output', schema: body.output_schema } } : {}),
            },
            { waitUntil: (p) => c.executionCtx.waitUntil(p) },
          );
          return c.json(
            {
              text: r.text,
              provider: r.provider,
              model: r.model,
              tokens_in: r.tokensIn,
              tokens_out: r.tokensOut,
              tokens_reasoning: r.tokensReasoning ?? 0,
              finish_reason: r.finishReason,
              cached: r.cached ?? false,
              fallback_from: r.fallbackFrom,
              language_model: r.provider !== 'local',
              ...(r.provider === 'local' ? { notice: LOCAL_NOTICE } : {}),
              ...(body.output_schema ? structuredView(body.output_schema, r) : {}),
            },
            200,
          );
        } catch (err) {
          if (!(err instanceof ProviderError)) throw err;
          if (strict && err.code === 'not_configured') throw notConfigured(body.provider!, err.message);
          if (err.code === 'unsupported')
            throw new ApiError('unsupported_by_provider', err.message, {
              details: { provider: err.provider, providers: LANGUAGE_MODEL_PROVIDERS },
            });
          throw new ApiError('service_unavailable', `No AI provider could answer: ${err.message}`, {
            details: {
              provider: err.provider,
              code: err.code,
              retryable: err.retryable,
              ...(err.retryAfterMs !== undefined ? { retry_after_ms: err.retryAfterMs } : {}),
            },
          });
        }
      },
    )
    .openapi(analyzeRoute('/analyze', id('analyzeText'), 'Analyze text: sentiment, keywords, readability, language, quality'), (c) => {
      const body = c.req.valid('json');
      return c.json(analyzeText(body.text, body.analyses), 200);
    });
}
