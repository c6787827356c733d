import { type EnginePorts, type ExecDeps, NodeError } from '../engine';
import {
  PROVIDERS,
  ProviderError,
  type ProviderName,
  createProvider,
  defaultProvider,
  generateWithChain,
  providerChain,
  type AiEnv,
  ANALYSIS_KINDS,
  analyzeText,
  type AnalysisKind,
  summarize,
} from '../ai';
import { callCost } from '../costs';
import { ApiError } from '../lib/errors';
import { retrieve } from '../knowledge';
import { callTraceparent, withTraceparent } from '../traces';

type ExecTrace = Parameters<EnginePorts['execution']>[0]['trace'];

const asProvider = (p: string | undefined): ProviderName | undefined =>
  (PROVIDERS as readonly string[]).includes(p ?? '') ? (p as ProviderName) : undefined;
const asProviders = (list: readonly string[] | undefined) => list?.map(asProvider).filter((p): p is ProviderName => p !== undefined);
const asAnalyses = (list: string[]) => list.filter((a): a is AnalysisKind => (ANALYSIS_KINDS as readonly string[]).includes(a));

/**
 * Binds node execution to this deployment's AI providers and text algorithms. A provider's
 * failure becomes a NodeError carrying the provider's verdict on retrying, which is all the
 * engine needs to know about providers.
 */
export function executionDeps(
  env: Env,
  o: {
    signal: AbortSignal;
    onToken: (t: string) => void;
    fallback: readonly string[] | undefined;
    ownerId: number;
    trace?: ExecTrace | undefined;
  },
): ExecDeps {
  const aiEnv: AiEnv = env;
  return {
    signal: o.signal,
    onToken: o.onToken,
    generate: async (call, options) => {
      try {
        const answer = await generateWithChain(
          aiEnv,
          providerChain(aiEnv, asProvider(call.provider), asProviders(o.fallback)),
          call,
          options,
          // Providers' HTTP calls carry the attempt's call span as their trace context.
          o.trace ? withTraceparent(await callTraceparent(o.trace)) : undefined,
        );
        // A cached answer cost nothing this time.
        const costUsd = answer.cached ? 0 : await callCost(env, answer.provider, answer.model, answer);
        return { ...answer, costUsd };
      } catch (err) {
        if (err instanceof ProviderError) throw new NodeError(err.message, err.retryable, err.provider, err.retryAfterMs);
        throw err;
      }
    },
    contextWindow: (provider, model) => {
      const p = createProvider(asProvider(provider) ?? defaultProvider(aiEnv), aiEnv);
      return p.contextWindow(model ?? p.defaultModel);
    },
    summarize: (text, maxWords) => summarize(text, { maxWords }),
    analyze: (text, analyses) => analyzeText(text, asAnalyses(analyses)),
    retrieve: async (q) => {
      try {
        return await retrieve(env, o.ownerId, q);
      } catch (err) {
        // A missing base (or someone else's) or one built with another embedding stays so; an embedding service that is down may not.
        if (err instanceof ApiError)
          throw new NodeError(`knowledge base ${q.knowledgeBaseId}: ${err.message}`, err.code === 'service_unavailable');
        throw err;
      }
    },
  };
}
