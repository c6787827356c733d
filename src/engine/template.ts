import { estimateTokens } from '../lib/tokens';
import { templateRefs } from './definition';
import type { NodeOutput } from './types';

export type TemplateContext = {
  input: Record<string, unknown>;
  nodes: Record<string, { output: NodeOutput | null; status: string; finishedAt: number | null }>;
  run: Record<string, unknown>;
  workflow: Record<string, unknown>;
};

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && 'label' in value && typeof (value as { label: unknown }).label === 'string') {
    return (value as { label: string }).label;
  }
  return JSON.stringify(value);
}

function dig(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/**
 * Resolves one reference. `nodes.<id>.output` is the node's text; `nodes.<id>.output.<path>` reads
 * its structured data (an analysis, a branch decision); `nodes.<id>.title`/`document_id`/`status`
 * read the rest. An object with a `label` (a sentiment, say) renders as that label.
 */
export function resolveRef(ref: string[], ctx: TemplateContext): string {
  const [root, ...rest] = ref;
  if (root === 'nodes') {
    const [id, field, ...path] = rest;
    const node = id ? ctx.nodes[id] : undefined;
    if (!node) return '';
    if (field === 'output' || field === undefined) {
      return path.length ? stringify(dig(node.output?.data, path)) : (node.output?.text ?? '');
    }
    if (field === 'title') return node.output?.title ?? '';
    if (field === 'document_id') return stringify(node.output?.documentId);
    if (field === 'status') return node.status;
    return '';
  }
  const base = root === 'input' ? ctx.input : root === 'run' ? ctx.run : root === 'workflow' ? ctx.workflow : undefined;
  return stringify(dig(base, rest));
}

export function render(template: string, ctx: TemplateContext): string {
  return template.replace(/\{\{\s*([^{}]*?)\s*\}\}/g, (_m, path: string) => resolveRef(path.split('.'), ctx));
}

export type Compaction = { replaced: string[]; tokensBefore: number; tokensAfter: number; budget: number };

/**
 * Renders a template within a token budget. When the upstream documents it includes are too
 * large, the oldest are replaced by summaries, one at a time, until the prompt fits; what was
 * replaced is returned so the run can record it. Fails when even all-summaries do not fit.
 */
export function renderWithinBudget(
  template: string,
  ctx: TemplateContext,
  budget: number,
  summarize: (text: string, maxWords: number) => string,
): { text: string; compaction: Compaction | null } {
  let text = render(template, ctx);
  const tokensBefore = estimateTokens(text);
  if (tokensBefore <= budget) return { text, compaction: null };

  const referenced = [
    ...new Set(
      templateRefs(template)
        .filter((r) => r[0] === 'nodes' && r[1])
        .map((r) => r[1]!),
    ),
  ]
    .filter((id) => (ctx.nodes[id]?.output?.text.length ?? 0) > 0)
    .sort((a, b) => (ctx.nodes[a]!.finishedAt ?? 0) - (ctx.nodes[b]!.finishedAt ?? 0));
  const nodes = { ...ctx.nodes };
  const replaced: string[] = [];
  for (const id of referenced) {
    const node = nodes[id]!;
    const overBy = estimateTokens(text) - budget;
    const ownTokens = estimateTokens(node.output!.text);
    // Aim the summary at what this document must give up, leaving it at least a few sentences.
    const targetWords = Math.max(40, Math.floor(((ownTokens - overBy) * 4) / 6));
    nodes[id] = { ...node, output: { ...node.output!, text: summarize(node.output!.text, targetWords) } };
    replaced.push(id);
    text = render(template, { ...ctx, nodes });
    if (estimateTokens(text) <= budget) break;
  }
  const tokensAfter = estimateTokens(text);
  if (tokensAfter > budget) {
    throw new Error(`prompt needs ~${tokensAfter} tokens after summarizing upstream documents; the budget is ${budget}`);
  }
  return { text, compaction: { replaced, tokensBefore, tokensAfter, budget } };
}
