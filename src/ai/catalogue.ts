import { z } from 'zod';
import type { ProviderName } from '../db/schema';
import { perObject } from '../lib/memo';
import { CHECKED, DEFAULT_MODELS, FAMILIES, MODELS, type Capabilities, type ModelEntry, type Price } from './models';

/*
 * Lookups over the model catalogue (./models.ts): one place that knows each model's window,
 * output cap, price, what it accepts and when it stops being served. The adapters shape their
 * requests from it, the engine budgets prompts with it, the readiness check flags retired
 * models with it, and cost accounting multiplies its prices by the tokens a provider reports.
 */

export { CHECKED, DEFAULT_MODELS, MODELS, type Capabilities, type ModelEntry, type Price };

export type Lifecycle = 'active' | 'deprecated' | 'retired' | 'unknown';

export type ModelInfo = ModelEntry & {
  /** False when the model is not in the catalogue and the figures are conservative assumptions. */
  known: boolean;
  /** Where the model stands on the day asked about (`retires` passed: retired). */
  status: Lifecycle;
};

const PriceSchema = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
  cachedInputPerMTok: z.number().nonnegative().optional(),
});
const IsoDate = z.iso.date();

/** One model's corrections in AI_MODELS; what it leaves out keeps the built-in (or assumed) value. */
const Override = z.strictObject({
  contextWindow: z.number().int().positive().optional(),
  maxOutput: z.number().int().positive().nullable().optional(),
  price: PriceSchema.nullable().optional(),
  longContext: z.strictObject({ aboveInputTokens: z.number().int().positive(), price: PriceSchema }).optional(),
  capabilities: z
    .strictObject({
      streaming: z.boolean(),
      structuredOutput: z.boolean(),
      tools: z.boolean(),
      temperature: z.boolean(),
      reasoning: z.boolean(),
    })
    .partial()
    .optional(),
  deprecated: IsoDate.optional(),
  retires: IsoDate.optional(),
  replacement: z.string().optional(),
  note: z.string().optional(),
});
const Overrides = z.partialRecord(z.enum(['local', 'workers-ai', 'openai', 'anthropic', 'google']), z.record(z.string(), Override));
export type CatalogueOverrides = z.infer<typeof Overrides>;

/**
 * Parses the AI_MODELS variable: JSON keyed by provider, then model id, e.g.
 * `{"openai":{"my-finetune":{"contextWindow":128000,"price":{"inputPerMTok":0.3,"outputPerMTok":1.2}}}}`.
 * Returns the problem as text rather than throwing, so a bad value is reported (readiness, logs)
 * and the built-in catalogue still serves.
 */
export function parseOverrides(raw: string | undefined): { overrides: CatalogueOverrides; problem?: string } {
  if (!raw?.trim()) return { overrides: {} };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { overrides: {}, problem: 'AI_MODELS is not valid JSON' };
  }
  const parsed = Overrides.safeParse(json);
  if (parsed.success) return { overrides: parsed.data };
  return { overrides: {}, problem: `AI_MODELS: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ').slice(0, 300)}` };
}

/** The overrides of one environment, parsed once per env object (an isolate keeps its env). */
export const overridesOf = perObject((env: { AI_MODELS?: string | undefined }) => parseOverrides(env.AI_MODELS));

// A dated snapshot or alias of a listed id: `claude-haiku-4-5-20251001`, `gpt-4o-2024-08-06`, `-001`, `-latest`.
const SNAPSHOT = /^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3}|latest)$/;

function builtIn(provider: ProviderName, model: string): ModelEntry | undefined {
  const candidates = MODELS.filter((m) => m.provider === provider);
  return (
    candidates.find((m) => m.model === model || m.aliases?.includes(model)) ??
    candidates.find((m) => model.startsWith(m.model) && SNAPSHOT.test(model.slice(m.model.length)))
  );
}

function assumed(provider: ProviderName, model: string): ModelEntry {
  const family = FAMILIES.find((f) => f.provider === provider && f.pattern.test(model));
  return {
    provider,
    model,
    contextWindow: family?.contextWindow ?? 8_192,
    maxOutput: null,
    price: provider === 'local' ? { inputPerMTok: 0, outputPerMTok: 0 } : null,
    capabilities: family?.capabilities ?? {
      streaming: true,
      structuredOutput: false,
      tools: false,
      temperature: provider !== 'local',
      reasoning: false,
    },
    source: 'not in the catalogue: conservative assumptions',
  };
}

const day = (at: Date) => at.toISOString().slice(0, 10);

function lifecycle(entry: ModelEntry, known: boolean, at: Date): Lifecycle {
  if (entry.retires && entry.retires <= day(at)) return 'retired';
  if (entry.retires || entry.deprecated) return 'deprecated';
  return known ? 'active' : 'unknown';
}

/**
 * Everything the catalogue knows about a model, corrected by AI_MODELS when an env is given.
 *
 * @example
 * const info = modelInfo('anthropic', 'claude-haiku-5-5', { env });
 * info.contextWindow;              // 1000000
 * costUsd(info, { tokensIn: 1200, tokensOut: 400 }); // 0.00032
 */
export function modelInfo(
  provider: ProviderName,
  model: string,
  options: { env?: { AI_MODELS?: string | undefined }; at?: Date } = {},
): ModelInfo {
  const listed = builtIn(provider, model);
  const override = options.env ? overridesOf(options.env).overrides[provider]?.[model] : undefined;
  const base = listed ? { ...listed, model } : assumed(provider, model);
  const { capabilities, ...rest } = override ?? {};
  const entry: ModelEntry = {
    ...base,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    capabilities: { ...base.capabilities, ...capabilities },
    ...(override ? { source: `${base.source}; corrected by AI_MODELS` } : {}),
  };
  const known = listed !== undefined || override !== undefined;
  return { ...entry, known, status: lifecycle(entry, known, options.at ?? new Date()) };
}

/** The price in force for a request of `tokensIn` input tokens on a given day; null when unknown. */
export function priceAt(info: ModelEntry, tokensIn: number, at: Date = new Date()): Price | null {
  if (info.longContext && tokensIn > info.longContext.aboveInputTokens) return info.longContext.price;
  const scheduled = (info.priceFrom ?? []).filter((p) => p.date <= day(at)).at(-1);
  return scheduled?.price ?? info.price;
}

/**
 * What one call cost in USD at list price: input and output tokens times the model's price
 * (reasoning tokens are output tokens and billed as such). Null when the price is unknown.
 */
export function costUsd(info: ModelEntry, usage: { tokensIn: number; tokensOut: number }, at: Date = new Date()): number | null {
  const price = priceAt(info, usage.tokensIn, at);
  if (!price) return null;
  return (usage.tokensIn * price.inputPerMTok + usage.tokensOut * price.outputPerMTok) / 1_000_000;
}
