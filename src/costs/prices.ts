import { eq, and } from 'drizzle-orm';
import { getDb } from '../db/client';
import { modelPrices, type ProviderName } from '../db/schema';
import { type AiEnv, MODELS, modelInfo, type Price, priceAt } from '../ai';

/*
 * The price of a call: an administrator's price for the model when one is set (model_prices),
 * else the model catalogue's list price on the day of the call (src/ai/models.ts, corrected by
 * AI_MODELS), else unknown. Admin prices are read from D1 and kept in this isolate for
 * PRICES_TTL_MS, so another isolate may charge the old price for that long after a change.
 */

const PRICES_TTL_MS = 30_000;

export type PriceSource = 'admin' | 'catalogue' | 'unknown';
export type PriceQuote = { price: Price | null; source: PriceSource };

type AdminPrices = { at: number; rows: Map<string, Price> };
const loaded = new WeakMap<D1Database, AdminPrices>();
const key = (provider: string, model: string) => `${provider}\u0000${model}`;

async function adminPrices(d1: D1Database): Promise<Map<string, Price>> {
  const hit = loaded.get(d1);
  if (hit && Date.now() - hit.at < PRICES_TTL_MS) return hit.rows;
  const rows = await getDb(d1).select().from(modelPrices).all();
  const map = new Map(rows.map((r) => [key(r.provider, r.model), { inputPerMTok: r.inputPerMTok, outputPerMTok: r.outputPerMTok }]));
  loaded.set(d1, { at: Date.now(), rows: map });
  return map;
}

/** Forgets this isolate's admin prices, so the next call reads the ones just written. */
export function forgetPrices(d1: D1Database): void {
  loaded.delete(d1);
}

/** The price a call of `tokensIn` input tokens on `model` is charged at. */
export async function priceOf(env: Env, provider: ProviderName, model: string, tokensIn = 0, at = new Date()): Promise<PriceQuote> {
  const admin = (await adminPrices(env.DB)).get(key(provider, model));
  if (admin) return { price: admin, source: 'admin' };
  const price = priceAt(modelInfo(provider, model, { env: env as AiEnv, at }), tokensIn, at);
  return price ? { price, source: 'catalogue' } : { price: null, source: 'unknown' };
}

/** USD for the tokens at that price (null: price unknown). */
export function costAt(price: Price | null, usage: { tokensIn: number; tokensOut: number }): number | null {
  if (!price) return null;
  return (usage.tokensIn * price.inputPerMTok + usage.tokensOut * price.outputPerMTok) / 1_000_000;
}

/** What a call cost: its tokens at the price in force. */
export async function callCost(env: Env, provider: ProviderName, model: string, usage: { tokensIn: number; tokensOut: number }) {
  return costAt((await priceOf(env, provider, model, usage.tokensIn)).price, usage);
}

/** Every price the deployment charges: the catalogue's models at today's list price, with admins' prices over them. */
export async function priceTable(env: Env) {
  const db = getDb(env.DB);
  const admin = await db.select().from(modelPrices).all();
  const today = new Date();
  const rows = new Map<string, ReturnType<typeof row>>();
  function row(provider: ProviderName, model: string) {
    const info = modelInfo(provider, model, { env: env as AiEnv, at: today });
    const list = priceAt(info, 0, today);
    return {
      provider,
      model,
      input_per_mtok: list?.inputPerMTok ?? null,
      output_per_mtok: list?.outputPerMTok ?? null,
      source: (list ? 'catalogue' : 'unknown') as PriceSource,
      list_price: list ? { input_per_mtok: list.inputPerMTok, output_per_mtok: list.outputPerMTok } : null,
      updated_at: null as string | null,
    };
  }
  for (const m of MODELS) rows.set(key(m.provider, m.model), row(m.provider, m.model));
  for (const a of admin) {
    const base = rows.get(key(a.provider, a.model)) ?? row(a.provider, a.model);
    rows.set(key(a.provider, a.model), {
      ...base,
      input_per_mtok: a.inputPerMTok,
      output_per_mtok: a.outputPerMTok,
      source: 'admin',
      updated_at: new Date(a.updatedAt).toISOString(),
    });
  }
  return [...rows.values()].sort((a, b) => a.provider.localeCompare(b.provider) || a.model.localeCompare(b.model));
}

export const adminPriceWhere = (provider: ProviderName, model: string) =>
  and(eq(modelPrices.provider, provider), eq(modelPrices.model, model));
