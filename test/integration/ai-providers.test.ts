import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { aiStatus } from '../../src/health/checks';
import { api, createWorkflow, expectError, llmStats, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

/*
 * The provider's advice reaching the run engine, through the whole worker: the openai provider
 * talks to the scripted fake (test/fake-llm.ts), whose model names script its answers. Delays
 * are asserted on the attempt times the run recorded, not measured by the test.
 */

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('aip'))).token;
});

const node = (model: string) => ({
  id: 'only',
  type: 'generate',
  provider: 'openai',
  model,
  prompt: 'Write about {{input.topic}}',
  // Without the provider's advice the next attempt would start 20 ms after a failure.
  retry: { max_attempts: 3, backoff: 'constant', initial_delay_ms: 20, jitter: false },
});
const settings = { fallback_providers: [] };

describe('provider advice in runs', () => {
  it('a 429 with retry-after: 1 makes the next attempt start at least 1 s later', async () => {
    const tag = unique('ra');
    const wf = await createWorkflow(token, { name: 'retry-after', settings, nodes: [node(`ratelimit-${tag}-1`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('succeeded');
    expect(run.attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
    expect(run.attempts[0]!.error).toMatch(/rate limited/);
    expect(run.attempts[1]!.delay_ms).toBeGreaterThanOrEqual(1000);
    const [first, second] = run.attempts.map((a) => Date.parse(a.started_at));
    expect(second! - first!).toBeGreaterThanOrEqual(1000);
    expect((await llmStats(tag)).calls).toBe(2);
  });

  it.each([
    ['insufficient_quota', 'quota', /quota exhausted/],
    ['a model the provider does not serve', 'missing', /model "missing-\w+" not found.*node's or request's `model`/],
  ])('%s is not retried: one attempt, and the run fails saying why', async (_, script, message) => {
    const tag = unique(script);
    const wf = await createWorkflow(token, { name: script, settings, nodes: [node(`${script}-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('failed');
    expect(run.attempts).toHaveLength(1);
    expect(run.attempts[0]!.error).toMatch(message);
    expect((await llmStats(tag)).calls).toBe(1);
  });
});

describe('never an empty success', () => {
  it('an empty answer is asked once more; the second answer and both calls’ tokens are returned', async () => {
    const tag = unique('eo');
    const res = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'Say something', provider: 'openai', model: `emptyonce-${tag}`, fallback_providers: [] },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.text).toContain('Say something');
    // The empty first answer billed 64 reasoning tokens, counted beside the output tokens.
    expect(res.json.tokens_reasoning).toBe(64);
    expect(res.json.tokens_out).toBeGreaterThan(64);
    expect((await llmStats(tag)).calls).toBe(2);
  });

  it('two empty answers fail with empty_response and the raw finish reason', async () => {
    const tag = unique('em');
    const res = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'Say something', provider: 'openai', model: `empty-${tag}`, fallback_providers: [] },
    });
    expectError(res, 503, 'service_unavailable');
    expect(res.json.error.details).toMatchObject({ provider: 'openai', code: 'empty_response', retryable: false });
    expect(res.json.error.message).toContain('finish reason length');
    expect((await llmStats(tag)).calls).toBe(2);
  });

  it('a run whose provider only ever answers empty fails instead of storing an empty document', async () => {
    const tag = unique('er');
    const wf = await createWorkflow(token, { name: 'empty', settings, nodes: [node(`empty-${tag}`)] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'tides' })).id);
    expect(run.status).toBe('failed');
    expect(run.nodes[0]!.output).toBeNull();
    expect(run.attempts[0]!.error).toMatch(/returned no text twice/);
  });
});

describe('readiness', () => {
  it("reports each configured provider's model with its lifecycle", async () => {
    const res = await api('GET', '/api/v3/health', { headers: { 'x-health-secret': env.HEALTH_CHECK_SECRET } });
    expect(res.json.ai.models).toMatchObject({
      local: { model: 'local-extractive-v1', status: 'active' },
      openai: { model: 'gpt-6-luna', status: 'active' },
    });
    expect(res.json.ai.catalogue.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('flags a retired model, and names the setting to change', () => {
    const status = aiStatus(
      { ...env, ANTHROPIC_API_KEY: 'k', ANTHROPIC_MODEL: 'claude-3-5-haiku-latest', OPENAI_MODEL: 'gpt-4o-mini' },
      new Date('2026-12-07T00:00:00Z'),
    );
    expect(status.models.anthropic).toMatchObject({
      model: 'claude-3-5-haiku-latest',
      status: 'retired',
      warning: 'claude-3-5-haiku-latest retired on 2026-02-19; set ANTHROPIC_MODEL to claude-haiku-5-5',
    });
    expect(status.models.openai).toMatchObject({ status: 'deprecated', retires: '2027-01-14', replacement: 'gpt-6-luna' });
    expect(aiStatus({ ...env, AI_MODELS: '{oops' }).catalogue.problem).toMatch(/AI_MODELS/);
  });
});
