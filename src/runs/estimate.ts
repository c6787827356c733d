import { estimateTokens } from '../ai';
import { quoteTokens } from '../costs';
import { outputCap, type WorkflowNode, type WorkflowSettings } from '../engine';

/*
 * What a run could cost before it starts: every model call its definition can make, each at its
 * prompt (the templates rendered with the given input, an upstream node's output counted at that
 * node's output cap) and its whole output cap, priced as budgets price calls (quoteTokens: the
 * priciest usable provider of the call's chain). It is an upper bound under stated assumptions,
 * not a forecast: a loop is counted at max_iterations, a structured-output call with its one
 * repair, a map at its input list's length when the input holds the list, else at max_items.
 */

/** Knowledge passages are about 800 characters (src/knowledge/chunking.ts), cut at sentence ends. */
const PASSAGE_TOKENS = 250;
const REF = /\{\{\s*([^{}]*?)\s*\}\}/g;

type Node = WorkflowNode;
type Item = Extract<Node, { type: 'map' }>['node'];

export type NodeEstimate = {
  node_id: string;
  type: string;
  calls: number;
  tokens_in: number;
  tokens_out_max: number;
  cost_usd_max: number | null;
  provider: string | null;
  model: string | null;
};

export type Estimate = {
  nodes: NodeEstimate[];
  calls: number;
  tokens_in: number;
  tokens_out_max: number;
  tokens_max: number;
  cost_usd_max: number | null;
  unpriced: string[];
  budget: { max_cost_usd: number | null; max_tokens: number | null; within: boolean | null };
  assumptions: string[];
};

const stringOf = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export async function estimateRun(
  env: Env,
  nodes: Node[],
  settings: WorkflowSettings,
  input: Record<string, unknown>,
  budget: { max_cost_usd?: number | undefined; max_tokens?: number | undefined },
): Promise<Estimate> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const assumptions = new Set<string>([
    'each call is counted once: retries and provider fallbacks after a failure are not',
    'an upstream output is counted at its node’s output cap',
  ]);
  const iterations = new Map<string, number>();
  for (const n of nodes) if (n.type === 'loop') for (const b of n.body) iterations.set(b, n.max_iterations);
  if (iterations.size) assumptions.add('loops are counted at max_iterations');

  const outCache = new Map<string, number>();
  /** The most tokens a node's output can hold, for the prompts that read it. */
  const outTokens = (id: string): number => {
    if (outCache.has(id)) return outCache.get(id)!;
    outCache.set(id, 0); // a reference cycle (refused at save time) counts nothing
    const n = byId.get(id);
    const out = n ? nodeOut(n) : 0;
    outCache.set(id, out);
    return out;
  };
  const depsOut = (n: { depends_on?: string[] }) => (n.depends_on ?? []).reduce((t, d) => t + outTokens(d), 0);
  const sourceTokens = (n: Node | Item, item?: unknown) =>
    'source' in n && n.source !== undefined ? promptTokens(n.source, item) : depsOut(n as { depends_on?: string[] });

  function nodeOut(n: Node | Item): number {
    switch (n.type) {
      case 'generate':
      case 'summarize':
      case 'title':
        return outputCap(n);
      case 'transform':
        return sourceTokens(n);
      case 'retrieve':
        return n.top_k * PASSAGE_TOKENS;
      case 'map':
        return itemsOf(n).count * nodeOut(n.node);
      default:
        return 0;
    }
  }

  /** A template's tokens: input values as given, upstream outputs at their caps, an item as given. */
  function promptTokens(template: string, item?: unknown): number {
    let upstream = 0;
    const text = template.replace(REF, (_, ref: string) => {
      const [root, id] = ref.split(/[.[]/);
      if (root === 'input') return stringOf(input[id ?? '']);
      if (root === 'nodes' && id) {
        upstream += outTokens(id);
        return '';
      }
      if (root === 'item') return stringOf(item);
      return root === 'index' ? '0' : '';
    });
    return estimateTokens(text) + upstream;
  }

  function itemsOf(m: Extract<Node, { type: 'map' }>): { count: number; list: unknown[] | null } {
    const ref = /^\s*\{\{\s*input\.([A-Za-z0-9_]+)\s*\}\}\s*$/.exec(m.items);
    const list = ref ? input[ref[1]!] : undefined;
    if (Array.isArray(list)) return { count: Math.min(list.length, m.max_items), list };
    assumptions.add('a map over a list made during the run is counted at its max_items');
    return { count: m.max_items, list: null };
  }

  /** The calls of one execution of an AI node: prompt tokens and output cap of each. */
  function callsOf(n: Node | Item, item?: unknown): { tokensIn: number; maxTokens: number }[] {
    switch (n.type) {
      case 'generate': {
        const maxTokens = outputCap(n);
        const cited = (n.cite ?? []).reduce((t, id) => t + outTokens(id), 0);
        const tokensIn = promptTokens(n.prompt, item) + (n.system ? promptTokens(n.system, item) : 0) + cited;
        if (!n.output_schema) return [{ tokensIn, maxTokens }];
        assumptions.add('a structured-output call is counted with its one repair');
        return [
          { tokensIn, maxTokens },
          { tokensIn: tokensIn + maxTokens + 100, maxTokens },
        ];
      }
      case 'summarize':
        return [{ tokensIn: sourceTokens(n, item) + 20, maxTokens: outputCap(n) }];
      case 'title':
        return [{ tokensIn: sourceTokens(n, item) + 20, maxTokens: outputCap(n) }];
      default:
        return [];
    }
  }

  const out: NodeEstimate[] = [];
  for (const n of nodes) {
    if (n.type === 'subchain') assumptions.add('a subchain’s child run is not included (estimate that workflow on its own)');
    const repeat = iterations.get(n.id) ?? 1;
    let calls: { tokensIn: number; maxTokens: number }[];
    let ai: Node | Item = n;
    if (n.type === 'map') {
      ai = n.node;
      const { count, list } = itemsOf(n);
      calls = Array.from({ length: count }, (_, i) => callsOf(n.node, list?.[i])).flat();
    } else calls = callsOf(n);
    if (!calls.length) continue;
    const provider = ('provider' in ai ? ai.provider : undefined) ?? settings.provider;
    const model = ('model' in ai ? ai.model : undefined) ?? settings.default_model;
    let cost: number | null = 0;
    let quoted: { provider: string; model: string } | null = null;
    const unpriced = new Set<string>();
    for (const call of calls) {
      const q = await quoteTokens(env, { ...call, provider, model }, settings.fallback_providers);
      quoted = { provider: q.provider, model: q.model };
      if (q.costUsd === null) unpriced.add(q.unpriced!);
      cost = cost === null || q.costUsd === null ? null : cost + q.costUsd;
    }
    out.push({
      node_id: n.id,
      type: n.type,
      calls: calls.length * repeat,
      tokens_in: calls.reduce((t, c) => t + c.tokensIn, 0) * repeat,
      tokens_out_max: calls.reduce((t, c) => t + c.maxTokens, 0) * repeat,
      cost_usd_max: cost === null ? null : cost * repeat,
      provider: quoted?.provider ?? null,
      model: quoted?.model ?? null,
    });
    for (const u of unpriced) assumptions.add(`the price of ${u} is unknown, so the total cost is unknown`);
  }
  const sum = (f: (e: NodeEstimate) => number) => out.reduce((t, e) => t + f(e), 0);
  const costKnown = out.every((e) => e.cost_usd_max !== null);
  const tokensMax = sum((e) => e.tokens_in + e.tokens_out_max);
  const costMax = costKnown ? sum((e) => e.cost_usd_max!) : null;
  const maxCost = budget.max_cost_usd ?? null;
  const maxTokens = budget.max_tokens ?? null;
  const checks = [
    maxTokens === null ? null : tokensMax <= maxTokens,
    maxCost === null ? null : costMax === null ? false : costMax <= maxCost,
  ].filter((c): c is boolean => c !== null);
  return {
    nodes: out,
    calls: sum((e) => e.calls),
    tokens_in: sum((e) => e.tokens_in),
    tokens_out_max: sum((e) => e.tokens_out_max),
    tokens_max: tokensMax,
    cost_usd_max: costMax,
    unpriced: [...new Set(out.filter((e) => e.cost_usd_max === null).map((e) => `${e.provider}/${e.model}`))],
    budget: { max_cost_usd: maxCost, max_tokens: maxTokens, within: checks.length ? checks.every(Boolean) : null },
    assumptions: [...assumptions],
  };
}
