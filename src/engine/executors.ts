import { citationsIn, citedPassages, withSources } from './citations';
import { evaluateCondition } from './condition';
import { generateStructured } from './structured';
import { estimateTokens } from '../lib/tokens';
import { render, renderWithinBudget, type Compaction, type TemplateContext } from './template';
import { applyTransform } from './transform';
import type { ExecDeps, ModelCall } from './ports';
import type { WorkflowNode, WorkflowSettings } from './definition';
import { NodeError, type NodeOutput } from './types';

export type ExecResult = {
  output: NodeOutput;
  provider?: string;
  model?: string;
  tokensIn: number;
  tokensOut: number;
  compaction: Compaction | null;
};

const DEFAULT_MAX_TOKENS = 1024;
const TITLE_MAX_TOKENS = 40;

/**
 * The output cap a call of an AI node is sent with: a generate node's max_tokens (1024 by
 * default), twice a summary's word limit, 40 for a title. Budgets, estimates and the save-time
 * context-window check read it here, so they price the calls the engine actually makes.
 */
export function outputCap(node: {
  type: 'generate' | 'summarize' | 'title';
  max_tokens?: number | undefined;
  max_words?: number | undefined;
}): number {
  if (node.type === 'generate') return node.max_tokens ?? DEFAULT_MAX_TOKENS;
  if (node.type === 'summarize') return Math.ceil((node.max_words ?? 150) * 2);
  return TITLE_MAX_TOKENS;
}

/** The text a node works on: its `source` template, or its dependencies' outputs in order. */
export function sourceText(node: WorkflowNode, ctx: TemplateContext): string {
  if ('source' in node && node.source !== undefined) return render(node.source, ctx);
  return node.depends_on
    .map((d) => ctx.nodes[d]?.output?.text ?? '')
    .filter(Boolean)
    .join('\n\n');
}

/** A document's title: its first markdown heading, else its first line, shortened. */
export function titleOf(text: string): string {
  const heading = /^#{1,6}\s+(.+)$/m.exec(text)?.[1];
  const line = (heading ?? text.split('\n').find((l) => l.trim()) ?? 'Untitled').trim().replace(/^["'#*\s]+|["'*\s]+$/g, '');
  return line.length > 120 ? `${line.slice(0, 117)}...` : line || 'Untitled';
}

async function callModel(
  node: Extract<WorkflowNode, { type: 'generate' | 'summarize' | 'title' }>,
  settings: WorkflowSettings,
  deps: ExecDeps,
  task: ModelCall['task'],
  messages: ModelCall['messages'],
  maxTokens: number,
  temperature?: number,
) {
  return deps.generate(
    {
      task,
      messages,
      provider: node.provider ?? settings.provider,
      model: node.model ?? settings.default_model,
      maxTokens,
      temperature,
      stream: true,
    },
    { signal: deps.signal, onToken: deps.onToken },
  );
}

/** Runs one attempt of a node that completes by itself (not approval or subchain). */
export async function executeNode(
  node: WorkflowNode,
  settings: WorkflowSettings,
  ctx: TemplateContext,
  deps: ExecDeps,
): Promise<ExecResult> {
  switch (node.type) {
    case 'generate': {
      const maxTokens = outputCap(node);
      const budget =
        settings.context_budget_tokens ??
        deps.contextWindow(node.provider ?? settings.provider, node.model ?? settings.default_model) - maxTokens;
      // Passages to cite come whole (a citation names a chunk), so the prompt fits in what they leave.
      const sources = citedPassages(node.cite, ctx);
      const sourceTokens = sources.length ? estimateTokens(withSources('', sources)) : 0;
      if (sourceTokens >= budget)
        throw new NodeError(`the ${sources.length} passages to cite need ~${sourceTokens} tokens; the prompt budget is ${budget}`, false);
      let rendered: { text: string; compaction: Compaction | null };
      try {
        rendered = renderWithinBudget(node.prompt, ctx, budget - sourceTokens, deps.summarize);
      } catch (err) {
        throw new NodeError(err instanceof Error ? err.message : String(err), false);
      }
      const system = node.system ? render(node.system, ctx) : undefined;
      const messages = [
        ...(system ? [{ role: 'system' as const, content: system }] : []),
        { role: 'user' as const, content: withSources(rendered.text, sources) },
      ];
      if (node.output_schema) {
        const s = await generateStructured(
          {
            task: 'generate',
            messages,
            provider: node.provider ?? settings.provider,
            model: node.model ?? settings.default_model,
            maxTokens,
            temperature: node.temperature,
            stream: true,
            output: { name: node.id, schema: node.output_schema },
          },
          deps,
        );
        const text = JSON.stringify(s.json, null, 2);
        const title = typeof s.json.title === 'string' && s.json.title.trim() ? titleOf(s.json.title) : (node.name ?? node.id);
        return {
          output: { text, title, data: s.json },
          provider: s.answer.provider,
          model: s.answer.model,
          tokensIn: s.tokensIn,
          tokensOut: s.tokensOut,
          compaction: rendered.compaction,
        };
      }
      const r = await callModel(node, settings, deps, 'generate', messages, maxTokens, node.temperature);
      return {
        output: { text: r.text, title: titleOf(r.text), ...(sources.length ? { citations: citationsIn(r.text, sources) } : {}) },
        provider: r.provider,
        model: r.model,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        compaction: rendered.compaction,
      };
    }
    case 'summarize': {
      const words = node.max_words ?? 150;
      const src = sourceText(node, ctx);
      if (!src.trim()) throw new NodeError('nothing to summarize: the source is empty', false);
      const system = `Summarize the user's document in at most ${words} words. Reply with the summary only.`;
      const r = await callModel(
        node,
        settings,
        deps,
        'summarize',
        [
          { role: 'system', content: system },
          { role: 'user', content: src },
        ],
        outputCap(node),
      );
      return {
        output: { text: r.text, title: `Summary: ${titleOf(src)}` },
        provider: r.provider,
        model: r.model,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        compaction: null,
      };
    }
    case 'title': {
      const src = sourceText(node, ctx);
      if (!src.trim()) throw new NodeError('nothing to title: the source is empty', false);
      const system = `Write a ${node.style}-style title for the user's document. Reply with the title only.`;
      const r = await callModel(
        node,
        settings,
        deps,
        'title',
        [
          { role: 'system', content: system },
          { role: 'user', content: src },
        ],
        outputCap(node),
      );
      const title = (r.text.split('\n').find((l) => l.trim()) ?? '').trim().replace(/^["'#\s]+|["'\s]+$/g, '');
      return {
        output: { text: title, title },
        provider: r.provider,
        model: r.model,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        compaction: null,
      };
    }
    case 'analyze': {
      const src = sourceText(node, ctx);
      const data = deps.analyze(src, node.analyses);
      return { output: { text: JSON.stringify(data), data }, tokensIn: 0, tokensOut: 0, compaction: null };
    }
    case 'transform': {
      const text = applyTransform(sourceText(node, ctx), node.operations, ctx);
      return { output: { text, title: titleOf(text) }, tokensIn: 0, tokensOut: 0, compaction: null };
    }
    case 'branch': {
      const left = render(node.condition.left, ctx);
      const right = typeof node.condition.right === 'string' ? render(node.condition.right, ctx) : node.condition.right;
      const result = evaluateCondition(node.condition.operator, left, right);
      const chosen = result ? node.then : node.else;
      return { output: { text: String(result), data: { result, chosen } }, tokensIn: 0, tokensOut: 0, compaction: null };
    }
    case 'retrieve': {
      const query = render(node.query, ctx).trim().slice(0, 2000);
      if (!query) throw new NodeError('nothing to retrieve: the query is empty', false);
      const { passages } = await deps.retrieve({
        knowledgeBaseId: node.knowledge_base_id,
        query,
        topK: node.top_k,
        minScore: node.min_score,
      });
      const text = passages.map((p, i) => `[${i + 1}] ${p.title ? `${p.title}: ` : ''}${p.text}`).join('\n\n');
      return {
        output: { text, data: { query, knowledge_base_id: node.knowledge_base_id, passages } },
        tokensIn: 0,
        tokensOut: 0,
        compaction: null,
      };
    }
    case 'notify':
    case 'task':
    case 'approval':
    case 'subchain':
    case 'map':
    case 'loop':
    case 'wait':
    case 'wait_for_event':
      throw new Error(`${node.type} nodes are driven by the run object, not executed directly`);
  }
}
