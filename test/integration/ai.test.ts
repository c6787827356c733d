import { beforeAll, describe, expect, it } from 'vitest';
import { api, createWorkflow, expectError, llmStats, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

let token: string;
beforeAll(async () => {
  token = (await registerAndLogin(unique('ai'))).token;
});

describe('AI layer endpoints', () => {
  it("the seeds' /api/v3/advanced/ai/generate works with a configured provider", async () => {
    const tag = unique('gen');
    const res = await api('POST', '/api/v3/advanced/ai/generate', {
      token,
      body: { prompt: 'Generate a workflow description', provider: 'openai', model: `slow-1-${tag}` },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ provider: 'openai', model: `slow-1-${tag}`, cached: false, fallback_from: [] });
    expect(res.json.text).toContain('Generate a workflow description');
    expect((await llmStats(tag)).calls).toBe(1);
  });

  it('refuses a named provider that is not configured, unless the request allows fallback, and says so', async () => {
    const refused = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'Outline an article about rivers', provider: 'anthropic' },
    });
    expectError(refused, 422, 'provider_not_configured');
    expect(refused.json.error.message).toContain('ANTHROPIC_API_KEY');
    expect(refused.json.error.details).toMatchObject({ provider: 'anthropic' });
    // The Workers AI binding exists in tests but cannot run locally: the call itself says so.
    const local = await api('POST', '/api/v3/advanced/ai/generate', { token, body: { prompt: 'Outline rivers', provider: 'workers-ai' } });
    expectError(local, 422, 'provider_not_configured');
    const res = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'Outline an article about rivers', provider: 'anthropic', allow_fallback: true },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ provider: 'local', fallback_from: ['anthropic'], language_model: false });
    expect(res.json.notice).toMatch(/^Not written by a language model/);
  });

  it('the local provider refuses what needs a language model, with the providers that can', async () => {
    const asked = [
      'Translate the following text into Spanish.\n\nGood morning, the report is ready.',
      'What is the capital of Australia?',
      'Write an FAQ about heat pumps',
    ];
    for (const prompt of asked) {
      const res = await api('POST', '/api/v3/ai/generate', { token, body: { prompt } });
      expectError(res, 422, 'unsupported_by_provider');
      expect(res.json.error.details).toEqual({ provider: 'local', providers: ['workers-ai', 'openai', 'anthropic', 'google'] });
    }
    // What it can do from the prompt's own material still works, and is labelled.
    const ok = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'Write a brief on heat pumps covering costs, maintenance and regulations' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ provider: 'local', language_model: false });
    for (const aspect of ['Costs', 'Maintenance', 'Regulations']) expect(ok.json.text).toContain(`## ${aspect}`);
    // A configured language model answers and carries no notice.
    const tag = unique('lm');
    const lm = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'What is the capital of Australia?', provider: 'openai', model: `slow-1-${tag}` },
    });
    expect(lm.json).toMatchObject({ provider: 'openai', language_model: true });
    expect(lm.json.notice).toBeUndefined();
  });

  it('caches deterministic calls in KV', async () => {
    const body = { prompt: `Outline an article about ${unique('topic')}`, provider: 'local' };
    const first = await api('POST', '/api/v3/ai/generate', { token, body });
    const second = await api('POST', '/api/v3/ai/generate', { token, body });
    expect(first.json.cached).toBe(false);
    expect(second.json.cached).toBe(true);
    expect(second.json.text).toBe(first.json.text);
    // A non-deterministic call (temperature > 0 on a network model) is not cached.
    const tag = unique('nc');
    const net = { prompt: 'hello', provider: 'openai', model: `slow-1-${tag}`, temperature: 0.7 };
    await api('POST', '/api/v3/ai/generate', { token, body: net });
    expect((await api('POST', '/api/v3/ai/generate', { token, body: net })).json.cached).toBe(false);
    expect((await llmStats(tag)).calls).toBe(2);
  });

  it('answers 503 when every provider fails, and 400 on bad input', async () => {
    const tag = unique('down');
    const rescued = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'x', provider: 'openai', model: `reject-${tag}`, allow_fallback: true },
    });
    expect(rescued.json).toMatchObject({ provider: 'local', fallback_from: ['openai'] });
    const down = await api('POST', '/api/v3/ai/generate', {
      token,
      body: { prompt: 'x', provider: 'openai', model: `fail-${tag}`, fallback_providers: [] },
    });
    expectError(down, 503, 'service_unavailable');
    expect(down.json.error.details).toMatchObject({ provider: 'openai', code: 'server_error', retryable: true });
    expectError(await api('POST', '/api/v3/ai/generate', { token, body: { prompt: '' } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/ai/generate', { token, body: { prompt: 'x', provider: 'skynet' } }), 400, 'validation_error');
  });

  it('analyzes text: sentiment, keywords, readability, language, quality', async () => {
    const res = await api('POST', '/api/v3/advanced/ai/analyze', {
      token,
      body: {
        text: 'Solar panels are wonderful. Solar panels cut energy bills and make homes quieter and cleaner. Everyone loves cheaper solar energy.',
      },
    });
    expect(res.status).toBe(200);
    expect(res.json.sentiment.label).toBe('positive');
    expect(res.json.keywords.map((k: { term: string }) => k.term.toLowerCase()).join(' ')).toContain('solar');
    expect(res.json.language.code).toBe('eng');
    expect(res.json.readability.words).toBeGreaterThan(15);
    expect(res.json.quality.score).toBeGreaterThan(0);
    const only = await api('POST', '/api/v3/ai/analyze', { token, body: { text: 'This is terrible and awful.', analyses: ['sentiment'] } });
    expect(Object.keys(only.json)).toEqual(['sentiment']);
    expect(only.json.sentiment.label).toBe('negative');
  });
});

describe('workflow analytics', () => {
  it('counts runs, success rate, durations, tokens and retries from stored runs', async () => {
    const tag = unique('an');
    const wf = await createWorkflow(token, {
      name: 'analytics',
      settings: { fallback_providers: [] },
      nodes: [
        {
          id: 'a',
          type: 'generate',
          provider: 'openai',
          model: `flaky-1-${tag}`,
          prompt: 'hi {{input.n}}',
          retry: { max_attempts: 3, initial_delay_ms: 10 },
        },
      ],
    });
    for (let n = 0; n < 3; n++) await waitForRun(token, wf.id, (await startRun(token, wf.id, { n })).id);
    // A task node whose payload the task layer refuses: the run fails.
    const broken = await createWorkflow(token, {
      name: 'x',
      nodes: [{ id: 'n', type: 'task', task_type: 'webhook_call', payload: { url: 'http://169.254.169.254/' } }],
    });
    await waitForRun(token, broken.id, (await startRun(token, broken.id)).id);

    const res = await api('GET', `/api/v3/workflows/${wf.id}/analytics`, { token });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ workflow_id: wf.id, runs: { total: 3, by_status: { succeeded: 3 } }, success_rate: 1, retries: 1 });
    expect(res.json.tokens.in).toBeGreaterThan(0);
    expect(res.json.run_duration_ms.p50).toEqual(expect.any(Number));
    expect(res.json.node_duration_ms.a.count).toBe(3);
    expect(res.json.runs_per_day).toHaveLength(1);
    const failing = await api('GET', `/api/v3/workflows/${broken.id}/analytics`, { token });
    expect(failing.json).toMatchObject({ runs: { total: 1, by_status: { failed: 1 } }, success_rate: 0 });
  });
});
