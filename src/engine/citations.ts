import type { RetrievedPassage } from './ports';
import type { TemplateContext } from './template';
import type { Citation } from './types';

/*
 * Cited generation: a generate node with `cite` is given the passages its retrieve nodes found as
 * numbered sources after its prompt, and asked to cite them as [n]. Which paragraph cites which
 * chunk is then read off the answer's markers. Only markers are read: a paragraph that uses a
 * source without citing it is not attributed (the model did not say so), and a marker beyond the
 * sources given cites nothing. Providers that are not language models (the local one) seldom
 * write markers, so their documents usually record no citations, which is the honest outcome.
 */

const MARKER = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

/** The passages of the retrieve nodes named in `cite`, in order, numbered from 1 by position. */
export function citedPassages(cite: string[] | undefined, ctx: TemplateContext): RetrievedPassage[] {
  const out: RetrievedPassage[] = [];
  for (const id of cite ?? []) {
    const passages = ctx.nodes[id]?.output?.data?.passages;
    if (Array.isArray(passages)) for (const p of passages) if (isPassage(p)) out.push(p);
  }
  return out;
}

function isPassage(p: unknown): p is RetrievedPassage {
  if (typeof p !== 'object' || p === null) return false;
  const r = p as Record<string, unknown>;
  return typeof r.chunk_id === 'number' && typeof r.source_id === 'number' && typeof r.text === 'string';
}

/** The prompt followed by the numbered sources and the instruction to cite them (the prompt alone when there are none). */
export function withSources(prompt: string, passages: RetrievedPassage[]): string {
  if (!passages.length) return prompt;
  const list = passages.map((p, i) => `[${i + 1}] ${p.title ? `(${p.title}) ` : ''}${p.text.trim()}`).join('\n\n');
  return `${prompt}\n\nSources. Use them, and cite the one each statement relies on by its number in square brackets, like [1]:\n\n${list}`;
}

/**
 * The citations in a generated text: for each paragraph (blank-line separated, empty ones not
 * counted, from 0), each distinct source number it cites that names one of `passages`.
 */
export function citationsIn(text: string, passages: RetrievedPassage[]): Citation[] {
  const out: Citation[] = [];
  const paragraphs = text.split(/\n\s*\n/).filter((p) => p.trim());
  paragraphs.forEach((paragraph, index) => {
    const seen = new Set<number>();
    for (const m of paragraph.matchAll(MARKER)) {
      for (const n of m[1]!.split(',').map((x) => Number(x.trim()))) {
        const p = passages[n - 1];
        if (!p || seen.has(n)) continue;
        seen.add(n);
        out.push({ paragraph: index, marker: n, chunk_id: p.chunk_id, source_id: p.source_id, document_id: p.document_id ?? null });
      }
    }
  });
  return out;
}
