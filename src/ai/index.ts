/** The AI layer's public module: providers behind one interface (with fallback chains and the response cache), the model catalogue, and the offline text algorithms. */
export {
  CHECKED as CATALOGUE_CHECKED,
  DEFAULT_MODELS,
  MODELS,
  costUsd,
  modelInfo,
  priceAt,
  type Capabilities,
  type Lifecycle,
  type ModelEntry,
  type ModelInfo,
  type Price,
} from './catalogue';
export {
  type AiEnv,
  configuredModel,
  configuredModelInfo,
  createProvider,
  defaultProvider,
  generateWithChain,
  isConfigured,
  providerChain,
} from './registry';
export { LANGUAGE_MODEL_PROVIDERS } from './local';
export { ANALYSIS_KINDS, type AnalysisKind, analyzeText } from './text/analyze';
export { summarize } from './text/summarize';
export {
  estimateTokens,
  type GenerateRequest,
  type GenerateResult,
  ProviderError,
  type ProviderName,
  PROVIDERS,
  type StructuredOutput,
} from './types';
