import { ApiError } from '../lib/errors';
import { NodesSchema, planReuse, type ReusedNode, type WorkflowNode } from '../engine';
import { runStub } from './rpc';

/** Fields an override may not change: they shape the graph, and the fork reuses outcomes by it. */
const GRAPH_FIELDS = ['id', 'type', 'depends_on', 'body', 'then', 'else'];

export type ForkOverrides = Record<string, Record<string, unknown>>;

/** What a fork runs: the definition with its overrides applied, and the outcomes it takes over. */
export type ForkPlan = { nodes: WorkflowNode[]; reused: ReusedNode[] };

/**
 * Plans a fork of run `originRunId` from `fromNode` over `nodes` (the version the fork runs):
 * which nodes run again (src/engine/fork.ts), the overrides applied to them (each a node's
 * fields, shallowly replaced, checked as the saved definition would be), and the finished
 * outcomes of the other nodes, read from the origin run's object. Throws a 400 naming the problem.
 */
export async function planFork(
  env: Env,
  p: { nodes: WorkflowNode[]; fromNode: string; overrides: ForkOverrides; originRunId: number },
): Promise<ForkPlan> {
  const origin = await runStub(env, p.originRunId).view();
  const plan = planReuse(p.nodes, p.fromNode, { nodes: origin.meta.nodes, records: origin.nodes });
  if ('problem' in plan) throw invalid(['from_node'], plan.problem);
  return { nodes: applyOverrides(p.nodes, p.overrides, plan.rerun, p.fromNode), reused: plan.reused };
}

function applyOverrides(nodes: WorkflowNode[], overrides: ForkOverrides, rerun: Set<string>, fromNode: string): WorkflowNode[] {
  const ids = Object.keys(overrides);
  if (!ids.length) return nodes;
  for (const id of ids) {
    if (!nodes.some((n) => n.id === id)) throw invalid(['overrides', id], `the workflow has no node "${id}"`);
    if (!rerun.has(id))
      throw invalid(
        ['overrides', id],
        `"${id}" is not run again by a fork from "${fromNode}" (its outcome is reused): it cannot be overridden`,
      );
    const graph = Object.keys(overrides[id]!).filter((f) => GRAPH_FIELDS.includes(f));
    if (graph.length)
      throw invalid(['overrides', id, graph[0]!], `an override cannot change ${graph.join(', ')}: the fork keeps the graph`);
  }
  const merged = nodes.map((n) => (overrides[n.id] ? { ...n, ...overrides[n.id] } : n));
  const parsed = NodesSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [, index, ...rest] = issue.path;
    const id = typeof index === 'number' ? merged[index]?.id : undefined;
    throw invalid(id ? ['overrides', id, ...rest.map(String)] : ['overrides'], issue.message, parsed.error.issues.length);
  }
  // Only the overridden nodes take their parsed form; the others stay exactly as stored, so
  // that comparing definitions with the origin's finds them unchanged.
  return nodes.map((n, i) => (overrides[n.id] ? parsed.data[i]! : n));
}

function invalid(path: string[], message: string, count = 1): ApiError {
  return new ApiError('validation_error', count > 1 ? `${message} (and ${count - 1} more problems)` : message, {
    details: [{ path, code: 'invalid_fork', message }],
  });
}
