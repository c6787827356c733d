import { describe, expect, it } from 'vitest';
import { citationsIn, citedPassages, withSources } from '../../src/engine/citations';
import type { TemplateContext } from '../../src/engine/template';

const passage = (n: number) => ({
  chunk_id: 100 + n,
  source_id: 10 + n,
  document_id: n === 2 ? 7 : null,
  title: `S${n}`,
  text: `Text ${n}.`,
  score: 0.5,
});
const sources = [passage(1), passage(2), passage(3)];

describe('citations', () => {
  it('reads each paragraph’s markers: lists, repeats, markers beyond the sources and empty paragraphs', () => {
    const text =
      'Intro without a source.\n\nBees dance [1]. They also hum [1][3].\n\n\n\nBoth [2, 3] agree; [9] is not a source.\n\nLinks like [x] or [] cite nothing.';
    expect(citationsIn(text, sources)).toEqual([
      { paragraph: 1, marker: 1, chunk_id: 101, source_id: 11, document_id: null },
      { paragraph: 1, marker: 3, chunk_id: 103, source_id: 13, document_id: null },
      { paragraph: 2, marker: 2, chunk_id: 102, source_id: 12, document_id: 7 },
      { paragraph: 2, marker: 3, chunk_id: 103, source_id: 13, document_id: null },
    ]);
    expect(citationsIn('No markers at all.', sources)).toEqual([]);
    expect(citationsIn('Cites [1].', [])).toEqual([]);
  });

  it('numbers the passages of the cited retrieve nodes in order, and leaves a prompt without any alone', () => {
    const ctx = {
      input: {},
      run: {},
      workflow: {},
      nodes: {
        a: { status: 'succeeded', finishedAt: 1, output: { text: '', data: { passages: [passage(1), { chunk_id: 'bad' }] } } },
        b: { status: 'succeeded', finishedAt: 2, output: { text: '', data: { passages: [passage(2)] } } },
        c: { status: 'succeeded', finishedAt: 3, output: { text: 'no data' } },
      },
    } satisfies TemplateContext;
    const given = citedPassages(['a', 'b', 'c'], ctx);
    expect(given.map((p) => p.chunk_id)).toEqual([101, 102]);
    expect(citedPassages(undefined, ctx)).toEqual([]);
    const prompt = withSources('Answer the question.', given);
    expect(prompt.startsWith('Answer the question.\n\nSources.')).toBe(true);
    expect(prompt).toContain('[1] (S1) Text 1.\n\n[2] (S2) Text 2.');
    expect(withSources('Answer the question.', [])).toBe('Answer the question.');
  });
});
