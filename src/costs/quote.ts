import { configuredModel, estimateTokens, isConfigured, PROVIDERS, type ProviderName, providerChain } from '../ai';
import { costAt, priceOf } from './prices';

/** A model call as priced before it is made: its messages, its output cap, and the providers it may go to. */
export type CallShape = {
  messages: { content: string }[];
  maxTokens: number;
  provider?: string | undefined;
  model?: string | undefined;
};

const asProvider = (p: string | undefined): ProviderName | undefined =>
  (PROVIDERS as readonly string[]).includes(p ?? '') ? (p as ProviderName) : undefined;

/**
 * The most a call could take: its prompt (estimated at about four characters a token) and its
 * whole output cap, priced at the priciest usable provider of its chain. `unpriced` names the
 * first model whose price is unknown; the cost is then null.
 */
export async function quoteCall(
  env: Env,
  call: CallShape,
  fallback: readonly string[] | undefined,
): Promise<{ tokens: number; tokensIn: number; costUsd: number | null; unpriced: string | null; model: string; provider: ProviderName }> {
  const tokensIn = call.messages.reduce((n, m) => n + estimateTokens(m.content), 0);
  return quoteTokens(env, { ...call, tokensIn }, fallback);
}

/** quoteCall for a call known only by its size: `tokensIn` of prompt and a `maxTokens` output cap. */
export async function quoteTokens(
  env: Env,
  call: Omit<CallShape, 'messages'> & { tokensIn: number },
  fallback: readonly string[] | undefined,
): Promise<{ tokens: number; tokensIn: number; costUsd: number | null; unpriced: string | null; model: string; provider: ProviderName }> {
  const { tokensIn } = call;
  const usage = { tokensIn, tokensOut: call.maxTokens };
  const chain = providerChain(
    env,
    asProvider(call.provider),
    fallback?.map(asProvider).filter((p): p is ProviderName => p !== undefined),
  );
  const candidates = chain.filter((name) => isConfigured(name, env));
  let worst: { costUsd: number | null; unpriced: string | null; model: string; provider: ProviderName } | null = null;
  for (const provider of candidates.length ? candidates : chain.slice(0, 1)) {
    const model = call.model ?? configuredModel(provider, env);
    const cost = costAt((await priceOf(env, provider, model, tokensIn)).price, usage);
    if (cost === null)
      return { tokens: tokensIn + call.maxTokens, tokensIn, costUsd: null, unpriced: `${provider}/${model}`, model, provider };
    if (!worst || cost > (worst.costUsd ?? 0)) worst = { costUsd: cost, unpriced: null, model, provider };
  }
  return { tokens: tokensIn + call.maxTokens, tokensIn, ...worst! };
}
