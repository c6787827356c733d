import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { type AiEnv, defaultProvider, generateWithChain, isConfigured, providerChain } from '../../src/ai';

/*
 * Production's configuration (wrangler.toml [vars]: AI_PROVIDER workers-ai, AI_FALLBACK_PROVIDERS
 * local) on a deployment without the [ai] binding: the chain starts at Workers AI, finds it not
 * configured and answers with local, saying so.
 */
const production = (ai: AiEnv['AI']): AiEnv => ({ ...(env as AiEnv), AI_PROVIDER: 'workers-ai', AI_FALLBACK_PROVIDERS: 'local', AI: ai });

describe('the production default provider', () => {
  it('is workers-ai, falling back to local when the AI binding is absent', async () => {
    const absent = production(undefined);
    expect(defaultProvider(absent)).toBe('workers-ai');
    expect(providerChain(absent)).toEqual(['workers-ai', 'local']);
    expect(isConfigured('workers-ai', absent)).toBe(false);
    const r = await generateWithChain(absent, providerChain(absent), {
      task: 'generate',
      messages: [{ role: 'user', content: 'Outline an article about rivers' }],
    });
    expect(r.provider).toBe('local');
    expect(r.fallbackFrom).toEqual(['workers-ai']);
  });

  it('uses the AI binding when there is one', async () => {
    const calls: string[] = [];
    const binding = {
      run: async (model: string) => {
        calls.push(model);
        return { response: 'Rivers carry water to the sea.', usage: { prompt_tokens: 5, completion_tokens: 7 } };
      },
    } as unknown as AiEnv['AI'];
    const present = production(binding);
    const r = await generateWithChain(present, providerChain(present), {
      task: 'generate',
      messages: [{ role: 'user', content: 'Write one sentence about rivers' }],
    });
    expect(r).toMatchObject({ provider: 'workers-ai', text: 'Rivers carry water to the sea.', fallbackFrom: [] });
    expect(calls).toHaveLength(1);
  });
});
