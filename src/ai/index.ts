/** The AI layer's public module: providers behind one interface (with fallback chains and the response cache) and the offline text algorithms. */
export { type AiEnv, createProvider, defaultProvider, generateWithChain, providerChain } from './registry';
export { ANALYSIS_KINDS, type AnalysisKind, analyzeText } from './text/analyze';
export { summarize } from './text/summarize';
export { estimateTokens, ProviderError, type ProviderName, PROVIDERS } from './types';
