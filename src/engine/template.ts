import { estimateTokens } from '../lib/tokens';
import type { NodeOutput } from './types';

/** What a template can read: the run input, node outputs, the run and workflow, and inside maps and loops their own. */
export type TemplateContext = {
  input: Record<string, unknown>;
  nodes: Record<string, { output: NodeOutput | null; status: string; finishedAt: number | null }>;
  run: Record<string, unknown>;
  workflow: Record<string, unknown>;
  /** Inside a map node's per-item template: the item and its position (from 0). */
  item?: unknown;
  index?: number;
  /** Inside a loop's body: the iteration (from 1) and the previous iteration's outputs. */
  loop?: { iteration: number; previous: Record<string, { output: NodeOutput | null }> };
  /** The comments of the run's latest request for changes at an approval node (empty before any). */
  review?: { comments: string };
};

/** A reference's path: `nodes.outline.output.sections[0].title` → nodes, outline, output, sections, 0, title. */
export type RefPath = (string | number)[];

const REF = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function parseRef(ref: string): RefPath {
  const out: RefPath = [];
  for (const segment of ref.split('.')) {
    const m = /^([^[\]]*)((?:\[\d{1,6}\])*)$/.exec(segment);
    if (!m) {
      out.push(segment);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const [, i] of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(i));
  }
  return out;
}

/** The `{{ … }}` references in a template, as paths. */
export function templateRefs(template: string): RefPath[] {
  return [...template.matchAll(REF)].map((m) => parseRef(m[1]!));
}

/** A template that is exactly one reference (`{{nodes.outline.output.sections}}`), as its path; else null. */
export function soleRef(template: string): RefPath | null {
  const m = /^\s*\{\{\s*([^{}]*?)\s*\}\}\s*$/.exec(template);
  return m ? parseRef(m[1]!) : null;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object' && 'label' in value && typeof (value as { label: unknown }).label === 'string') {
    return (value as { label: string }).label;
  }
  return JSON.stringify(value);
}

function dig(value: unknown, path: RefPath): unknown {
  let cur = value;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (typeof key !== 'number') return undefined;
      cur = cur[key];
    } else cur = (cur as Record<string, unknown>)[String(key)];
  }
  return cur;
}

/** A node output's reading: the text without a path, else its structured data at the path. */
function outputAt(output: NodeOutput | null | undefined, path: RefPath): unknown {
  return path.length ? dig(output?.data, path) : (output?.text ?? '');
}

/**
 * Resolves one reference to its value. `nodes.<id>.output` is the node's text;
 * `nodes.<id>.output.<path>` reads its structured data (structured output, an analysis, a
 * branch decision, a map's items); `nodes.<id>.title`/`document_id`/`status` read the rest.
 * `item` and `index` exist inside a map's per-item template, `loop.iteration` and
 * `loop.previous.<id>.output` inside a loop's body.
 */
export function resolveValue(ref: RefPath, ctx: TemplateContext): unknown {
  const [root, ...rest] = ref;
  if (root === 'nodes') {
    const [id, field, ...path] = rest;
    const node = typeof id === 'string' ? ctx.nodes[id] : undefined;
    if (!node) return undefined;
    if (field === 'output' || field === undefined) return outputAt(node.output, path);
    if (field === 'title') return node.output?.title ?? '';
    if (field === 'document_id') return node.output?.documentId;
    if (field === 'status') return node.status;
    return undefined;
  }
  if (root === 'item') return dig(ctx.item, rest);
  if (root === 'index') return rest.length ? undefined : ctx.index;
  if (root === 'loop') {
    const [field, id, sub, ...path] = rest;
    if (field === 'iteration') return ctx.loop?.iteration;
    if (field === 'previous' && typeof id === 'string' && (sub === 'output' || sub === undefined)) {
      return outputAt(ctx.loop?.previous[id]?.output, path);
    }
    return undefined;
  }
  if (root === 'review') return dig(ctx.review ?? { comments: '' }, rest);
  const base = root === 'input' ? ctx.input : root === 'run' ? ctx.run : root === 'workflow' ? ctx.workflow : undefined;
  return dig(base, rest);
}

export const resolveRef = (ref: RefPath, ctx: TemplateContext): string => stringify(resolveValue(ref, ctx));

export function render(template: string, ctx: TemplateContext): string {
  return template.replace(REF, (_m, path: string) => resolveRef(parseRef(path), ctx));
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
        .filter((r) => r[0] === 'nodes' && typeof r[1] === 'string')
        .map((r) => r[1] as string),
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
