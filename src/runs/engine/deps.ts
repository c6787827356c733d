import { createProvider, defaultProvider, generateWithChain, providerChain, type AiEnv } from '../../ai/registry';
import { analyzeText, ANALYSIS_KINDS, type AnalysisKind } from '../../ai/text/analyze';
import { summarize } from '../../ai/text/summarize';
import { PROVIDERS, type ProviderName } from '../../ai/types';
import type { ExecDeps } from './executors';

const asProvider = (p: string | undefined): ProviderName | undefined =>
  (PROVIDERS as readonly string[]).includes(p ?? '') ? (p as ProviderName) : undefined;
const asAnalyses = (list: string[]) => list.filter((a): a is AnalysisKind => (ANALYSIS_KINDS as readonly string[]).includes(a));

/** Binds node execution to this deployment's AI providers and text algorithms. */
export function executionDeps(env: Env, signal: AbortSignal, onToken: (t: string) => void, fallback?: readonly ProviderName[]): ExecDeps {
  const aiEnv: AiEnv = env;
  return {
    signal,
    onToken,
    generate: (req, options) => generateWithChain(aiEnv, providerChain(aiEnv, asProvider(req.provider), fallback), req, options),
    contextWindow: (provider, model) => {
      const p = createProvider(asProvider(provider) ?? defaultProvider(aiEnv), aiEnv);
      return p.contextWindow(model ?? p.defaultModel);
    },
    summarize: (text, maxWords) => summarize(text, { maxWords }),
    analyze: (text, analyses) => analyzeText(text, asAnalyses(analyses)),
  };
}
