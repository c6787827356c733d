import { describe, expect, it } from 'vitest';
import { inferTitleStyle, LocalProvider, wordChunks } from '../../src/ai/local';
import { summarize } from '../../src/ai/text/summarize';
import { makeTitle } from '../../src/ai/text/title';
import { countWords } from '../../src/ai/text/tokenize';
import { estimateTokens, ProviderError, type GenerateRequest } from '../../src/ai/types';

const ARTICLE = [
  'Solar power is the conversion of sunlight into electricity.',
  'Solar panels on rooftops let households generate their own electricity.',
  'The cost of solar panels has fallen sharply over the past decade, which makes solar power competitive with fossil fuels.',
  'Battery storage solves the problem of intermittent supply, because batteries store surplus electricity for the night.',
  'Grid operators now plan for large amounts of solar power.',
  'Critics point out that manufacturing solar panels requires energy and rare materials.',
  'Still, most analysts expect solar power to keep growing.',
].join(' ');

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('LocalProvider', () => {
  const provider = new LocalProvider();

  it('describes itself', () => {
    expect(provider.name).toBe('local');
    expect(provider.defaultModel).toBe('local-extractive-v1');
    expect(provider.contextWindow('local-extractive-v1')).toBe(8192);
  });

  it('summarises with TextRank, honouring a word budget in the instruction, and counts tokens', async () => {
    const request = ask(`Summarize this in 30 words:\n${ARTICLE}`, { task: 'summarize' });
    const result = await provider.generate(request);
    expect(result.text).toBe(summarize(ARTICLE, { maxWords: 30 }));
    expect(result.text.split(/\s+/).length).toBeLessThanOrEqual(30);
    expect(result).toMatchObject({
      provider: 'local',
      model: 'local-extractive-v1',
      finishReason: 'stop',
      tokensIn: estimateTokens(request.messages[0]!.content),
      tokensOut: estimateTokens(result.text),
    });
  });

  it('never summarises in more words than the instruction asks, ending at a sentence end', async () => {
    for (const budget of [10, 40]) {
      const result = await provider.generate(ask(`Summarize this in ${budget} words:\n${ARTICLE}`, { task: 'summarize' }));
      expect(result.text).toBe(summarize(ARTICLE, { maxWords: budget }));
      expect(countWords(result.text)).toBeLessThanOrEqual(budget);
      expect(result.text).toMatch(/\.$/);
      expect(result.finishReason).toBe('stop');
    }
    const tight = await provider.generate(ask(`Summarize this in 5 words:\n${ARTICLE}`, { task: 'summarize' }));
    expect(countWords(tight.text)).toBeLessThanOrEqual(5);
    expect(tight.text).toMatch(/…$/);
  });

  it('titles a short text as a title, not a cut sentence', async () => {
    const text = 'Solar panels cut energy bills. Everyone loves cheaper energy.';
    const blog = await provider.generate(ask(`Title this:\n${text}`, { task: 'title' }));
    expect(blog.text).toBe(makeTitle(text, 'blog'));
    expect(blog.text).toMatch(/Cheaper Energy$/);
    const news = await provider.generate(ask(`Write a news headline for this:\n${text}`, { task: 'title' }));
    expect(news.text).toBe('Solar panels cut energy bills');
  });

  it('titles in the style the prompt or system message names', async () => {
    const news = await provider.generate(ask(`Write a news headline for this:\n${ARTICLE}`, { task: 'title' }));
    expect(news.text).toBe(makeTitle(ARTICLE, 'news'));
    const academic = await provider.generate({
      messages: [
        { role: 'system', content: 'Titles must be academic.' },
        { role: 'user', content: `Title this:\n${ARTICLE}` },
      ],
      task: 'title',
    });
    expect(academic.text).toBe(makeTitle(ARTICLE, 'academic'));
    expect(inferTitleStyle('Give me a catchy title')).toBe('catchy');
    expect(inferTitleStyle('Title this')).toBe('blog');
  });

  it('drafts for generate and continue tasks from the last user message', async () => {
    const outline = await provider.generate({
      messages: [
        { role: 'user', content: 'Write about cats' },
        { role: 'assistant', content: 'Sure.' },
        { role: 'user', content: 'Outline an article about solar power' },
      ],
    });
    expect(outline.text).toMatch(/^# Solar Power/);
    expect(outline.text).not.toMatch(/cats/i);
    const next = await provider.generate(
      ask('Battery storage lets households keep surplus electricity for the evening.\n\nGrid operators must adapt.', { task: 'continue' }),
    );
    expect(next.text).toMatch(/^## /);
    expect(next.text.toLowerCase()).toContain('grid operators');
  });

  it('stops at maxTokens and reports finishReason length', async () => {
    const result = await provider.generate(ask('Write a blog post about remote work', { maxTokens: 20 }));
    expect(result.finishReason).toBe('length');
    expect(result.tokensOut).toBeLessThanOrEqual(20);
    const summary = await provider.generate(ask(`Summarize:\n${ARTICLE}`, { task: 'summarize', maxTokens: 10 }));
    expect(summary.finishReason).toBe('length');
    expect(summary.tokensOut).toBeLessThanOrEqual(10);
  });

  it('answers the same request the same way', async () => {
    const request = ask('Write an article from this outline:\n- Costs\n- Storage\n- Grid');
    expect(await provider.generate(request)).toEqual(await provider.generate(request));
  });

  it('streams word-sized chunks that concatenate to the text', async () => {
    const chunks: string[] = [];
    const result = await provider.generate(ask('Outline an article about solar power', { stream: true }), {
      onToken: (c) => chunks.push(c),
    });
    expect(chunks.length).toBeGreaterThan(10);
    expect(chunks.join('')).toBe(result.text);
    expect(chunks.every((c) => c.trim().split(/\s+/).length === 1)).toBe(true);
  });

  it('does not call onToken when streaming was not asked for', async () => {
    const chunks: string[] = [];
    await provider.generate(ask('Outline an article about solar power'), { onToken: (c) => chunks.push(c) });
    expect(chunks).toEqual([]);
  });

  it('throws aborted for a signal aborted before the call', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(provider.generate(ask('Outline an article about solar power'), { signal: controller.signal }));
    expect(err).toMatchObject({ provider: 'local', code: 'aborted', retryable: false });
  });

  it('stops streaming and throws aborted when the signal fires mid-stream', async () => {
    const controller = new AbortController();
    const chunks: string[] = [];
    const onToken = (c: string) => {
      chunks.push(c);
      if (chunks.length === 3) controller.abort();
    };
    const err = await rejection(
      provider.generate(ask('Outline an article about solar power', { stream: true }), { signal: controller.signal, onToken }),
    );
    expect(err.code).toBe('aborted');
    expect(chunks).toHaveLength(3);
  });

  it('rejects a request without a user message as a bad request', async () => {
    const err = await rejection(provider.generate({ messages: [{ role: 'system', content: 'Be brief.' }] }));
    expect(err).toMatchObject({ code: 'bad_request', retryable: false });
  });
});

describe('wordChunks', () => {
  it('keeps every character, leading and inner whitespace included', () => {
    const text = '  # Title\n\nOne  two\tthree.\n';
    expect(wordChunks(text)).toEqual(['  # ', 'Title\n\n', 'One  ', 'two\t', 'three.\n']);
    expect(wordChunks(text).join('')).toBe(text);
  });
});

describe('the local provider as the engine calls it', () => {
  const provider = new LocalProvider();
  it("keeps a summarize node's word budget, stated in its system message, in whole sentences", async () => {
    for (const words of [10, 40]) {
      const r = await provider.generate({
        task: 'summarize',
        maxTokens: words * 2,
        messages: [
          { role: 'system', content: `Summarize the user's document in at most ${words} words. Reply with the summary only.` },
          { role: 'user', content: ARTICLE },
        ],
      });
      expect(countWords(r.text), r.text).toBeLessThanOrEqual(words);
      expect(r.text).toMatch(/[.!?…]$/);
      expect(r.finishReason).toBe('stop');
    }
  });

  it('refuses translation, knowledge questions and FAQs, naming the providers that can', async () => {
    for (const content of [
      'Translate the following text from English into Spanish. Reply with the translation only.\n\nGood morning, the report is ready.',
      'What is the capital of Australia?',
      'Write an FAQ about heat pumps',
    ]) {
      const err = await provider.generate(ask(content)).catch((e: unknown) => e);
      expect(err, content).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).code).toBe('unsupported');
      expect((err as ProviderError).retryable).toBe(false);
      expect((err as ProviderError).message).toContain('workers-ai, openai, anthropic, google');
    }
    // Writing from a topic, an outline or material, and summaries of a question, still work.
    for (const content of ['Outline an article about solar power', 'How to choose a heat pump', 'Write a blog post in English about tea'])
      expect((await provider.generate(ask(content))).text.length, content).toBeGreaterThan(0);
    const titled = await provider.generate({ task: 'title', messages: [{ role: 'user', content: 'Why do heat pumps work?' }] });
    expect(titled.text.length).toBeGreaterThan(0);
  });
});

describe('reading a prompt stays linear in its length', () => {
  it('handles 100,000 spaces inside an instruction (the aspect and topic patterns once backtracked over them)', async () => {
    const { requestedAspects, topicOf, unsupportedRequest } = await import('../../src/ai/text/prompt');
    const gap = ' '.repeat(100_000);
    expect(requestedAspects(`Write a brief covering${gap}costs and upkeep`).aspects).toEqual(['costs', 'upkeep']);
    expect(requestedAspects(`Write a brief${gap}x`).aspects).toEqual([]);
    expect(topicOf(`Write about heat${gap}pumps`)).toBe('heat pumps');
    expect(unsupportedRequest(`Write a brief${gap}x`)).toBeUndefined();
  });
});
