import type { WorkflowNode } from './definition';
import { loopsOf } from './graph';
import { type NodeRecord, newNodeRecord, type ReusedNode } from './types';

/*
 * Forking a run from one of its nodes: the fork runs that node and everything downstream of it
 * again, and takes every other node's outcome from the run it was forked from, so none of them
 * calls a provider. A loop is re-run whole (its body with it); a body node cannot be forked from
 * on its own, since an iteration is the unit of a loop.
 */

/**
 * What a fork from `fromNode` runs again and what it takes over from the run it forks (`origin`):
 * it runs `fromNode`, every node that did not finish there (succeeded or skipped) or whose
 * definition differs (a fork of a newer version), and everything downstream of those; a loop
 * is run again whole, its body with it. Every other node's outcome is reused.
 */
export function planReuse(
  nodes: WorkflowNode[],
  fromNode: string,
  origin: { nodes: WorkflowNode[]; records: NodeRecord[] },
): { rerun: Set<string>; reused: ReusedNode[] } | { problem: string } {
  if (!nodes.some((n) => n.id === fromNode)) return { problem: `the workflow has no node "${fromNode}"` };
  const loop = loopsOf(nodes).get(fromNode);
  if (loop) return { problem: `"${fromNode}" is in the body of loop "${loop.id}": fork from "${loop.id}" instead` };
  const defs = new Map(origin.nodes.map((n) => [n.id, JSON.stringify(n)]));
  const records = new Map(origin.records.map((r) => [r.id, r]));
  const finished = (n: WorkflowNode) => {
    const rec = records.get(n.id);
    return (rec?.status === 'succeeded' || rec?.status === 'skipped') && defs.get(n.id) === JSON.stringify(n);
  };
  const rerun = new Set<string>();
  const pending = [fromNode, ...nodes.filter((n) => !finished(n)).map((n) => n.id)];
  while (pending.length) {
    const id = pending.pop()!;
    if (rerun.has(id)) continue;
    rerun.add(id);
    for (const n of nodes) {
      if (n.depends_on.includes(id)) pending.push(n.id);
      if (n.type === 'loop' && n.id === id) pending.push(...n.body);
      // A loop's body node runs again only as part of its loop's iterations.
      if (n.type === 'loop' && n.body.includes(id)) pending.push(n.id);
    }
  }
  const reused: ReusedNode[] = [];
  for (const def of nodes) {
    if (rerun.has(def.id)) continue;
    const { id, status, output, provider, model, startedAt, finishedAt, attempts, loop: state } = records.get(def.id)!;
    reused.push({ id, status, output, provider, model, startedAt, finishedAt, attempts, ...(state ? { loop: state } : {}) });
  }
  return { rerun, reused };
}

/** A fork's record of a node it takes over: the outcome, with no tokens spent by this run. */
export function reusedRecord(node: ReusedNode, fromRunId: number): NodeRecord {
  return { ...newNodeRecord(node.id), ...node, reusedFrom: fromRunId };
}
