import { describe, expect, it } from 'vitest';
import { CHECKED, DEFAULT_MODELS, MODELS, costUsd, modelInfo, parseOverrides, priceAt } from '../../src/ai/catalogue';
import { PROVIDERS } from '../../src/ai/types';

/* The model catalogue: lifecycle on a given day, prices for cost accounting, AI_MODELS corrections. */

const checked = new Date(`${CHECKED}T00:00:00Z`);

describe('the catalogue', () => {
  it('defaults every provider to a model it lists as served on the day it was checked', () => {
    for (const provider of PROVIDERS) {
      const info = modelInfo(provider, DEFAULT_MODELS[provider], { at: checked });
      expect(info, provider).toMatchObject({ known: true, status: 'active' });
      expect(info.price, provider).not.toBeNull();
    }
    expect(modelInfo('local', DEFAULT_MODELS.local)).toMatchObject({ contextWindow: 8192, price: { inputPerMTok: 0, outputPerMTok: 0 } });
  });

  it('names a source for every entry, and lists each model once per provider', () => {
    for (const entry of MODELS) expect(entry.source, entry.model).not.toBe('');
    const ids = MODELS.flatMap((m) => [m.model, ...(m.aliases ?? [])].map((id) => `${m.provider}:${id}`));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('flags the previous defaults by their retirement dates', () => {
    expect(modelInfo('anthropic', 'claude-3-5-haiku-latest', { at: checked })).toMatchObject({ status: 'retired', retires: '2026-02-19' });
    expect(modelInfo('google', 'gemini-2.0-flash', { at: checked })).toMatchObject({ status: 'retired', retires: '2026-06-01' });
    expect(modelInfo('workers-ai', '@cf/meta/llama-3.1-8b-instruct', { at: checked })).toMatchObject({ status: 'retired' });
    expect(modelInfo('openai', 'gpt-4o-mini', { at: checked })).toMatchObject({
      status: 'deprecated',
      retires: '2027-01-14',
      replacement: 'gpt-6-luna',
    });
    expect(modelInfo('openai', 'gpt-4o-mini', { at: new Date('2027-01-14T00:00:00Z') }).status).toBe('retired');
  });

  it('resolves dated snapshots to their model and assumes conservatively about unknown ones', () => {
    expect(modelInfo('anthropic', 'claude-haiku-4-5-20251001')).toMatchObject({ known: true, contextWindow: 200_000 });
    expect(modelInfo('openai', 'gpt-4o-mini-2024-07-18')).toMatchObject({ known: true, contextWindow: 128_000 });
    // gpt-4o is listed, but gpt-4o-mini-tts is not a snapshot of it.
    expect(modelInfo('openai', 'gpt-4o-mini-tts')).toMatchObject({ known: false, status: 'unknown', price: null });
    expect(modelInfo('openai', 'o9-preview').capabilities).toMatchObject({ reasoning: true, temperature: false });
    expect(modelInfo('workers-ai', '@cf/some/new-model')).toMatchObject({ known: false, contextWindow: 8192 });
  });
});

describe('prices', () => {
  it('costs a call at list price, reasoning tokens being output tokens', () => {
    const luna = modelInfo('openai', 'gpt-6-luna');
    expect(costUsd(luna, { tokensIn: 200_000, tokensOut: 100_000 })).toBeCloseTo(0.02 + 0.05, 10);
    // Above 272K input tokens the whole request bills at the long-context price.
    expect(costUsd(luna, { tokensIn: 1_000_000, tokensOut: 100_000 })).toBeCloseTo(0.2 + 0.075, 10);
    expect(costUsd(modelInfo('openai', 'unlisted-model'), { tokensIn: 10, tokensOut: 10 })).toBeNull();
    expect(costUsd(modelInfo('local', 'local-extractive-v1'), { tokensIn: 5000, tokensOut: 5000 })).toBe(0);
  });

  it('bills a long request at the long-context price, and a scheduled price from its date', () => {
    const haiku = modelInfo('anthropic', 'claude-haiku-5-5');
    expect(priceAt(haiku, 100_000)).toMatchObject({ inputPerMTok: 0.1, outputPerMTok: 0.5 });
    expect(priceAt(haiku, 100_001)).toMatchObject({ inputPerMTok: 0.5, outputPerMTok: 2.5 });
    const flash = modelInfo('google', 'gemini-3.8-flash');
    expect(priceAt(flash, 1000, new Date('2026-12-31T23:00:00Z'))).toMatchObject({ inputPerMTok: 0.75, outputPerMTok: 3.75 });
    expect(priceAt(flash, 1000, new Date('2027-01-01T00:00:00Z'))).toMatchObject({ inputPerMTok: 1.5, outputPerMTok: 7.5 });
  });
});

describe('AI_MODELS', () => {
  it('corrects a listed model and adds an unlisted one, keeping what it does not mention', () => {
    const env = {
      AI_MODELS: JSON.stringify({
        openai: {
          'gpt-6-luna': { price: { inputPerMTok: 0.08, outputPerMTok: 0.4 } },
          'my-finetune': { contextWindow: 32_768, capabilities: { temperature: false } },
        },
      }),
    };
    expect(modelInfo('openai', 'gpt-6-luna', { env })).toMatchObject({
      contextWindow: 1_050_000,
      price: { inputPerMTok: 0.08 },
      known: true,
    });
    expect(modelInfo('openai', 'my-finetune', { env })).toMatchObject({
      contextWindow: 32_768,
      known: true,
      capabilities: { temperature: false, streaming: true },
    });
  });

  it('reports a value it cannot use instead of failing every call', () => {
    expect(parseOverrides('{not json').problem).toMatch(/not valid JSON/);
    expect(parseOverrides(JSON.stringify({ openai: { x: { contextWindow: -1 } } })).problem).toMatch(/AI_MODELS/);
    expect(parseOverrides(JSON.stringify({ skynet: {} })).problem).toMatch(/AI_MODELS/);
    expect(parseOverrides(undefined)).toEqual({ overrides: {} });
  });
});
