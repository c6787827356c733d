import type { WorkflowNode } from './definition';
import { DONE_NODE, type NodeRecord } from './types';

type Loop = Extract<WorkflowNode, { type: 'loop' }>;

/** Each loop body node's loop. */
export function loopsOf(defs: WorkflowNode[]): Map<string, Loop> {
  const out = new Map<string, Loop>();
  for (const d of defs) if (d.type === 'loop') for (const b of d.body) out.set(b, d);
  return out;
}

/**
 * Scheduling rules, as pure functions of the definition and the node records:
 * - a node is ready when every dependency is done and at least one of them did not skip (so a
 *   node after a branch's two arms runs whichever arm was taken);
 * - a node is skipped when all its dependencies skipped, or when it is a branch target that the
 *   branch did not choose;
 * - a loop's body node waits for its loop to be running (an iteration under way), and is skipped
 *   with it.
 */
export function branchExcluded(node: WorkflowNode, defs: WorkflowNode[], records: Map<string, NodeRecord>): boolean {
  for (const dep of node.depends_on) {
    const def = defs.find((d) => d.id === dep);
    const rec = records.get(dep);
    if (def?.type !== 'branch' || rec?.status !== 'succeeded') continue;
    const targets = [...def.then, ...def.else];
    const chosen = rec.output?.data?.chosen;
    if (targets.includes(node.id) && Array.isArray(chosen) && !chosen.includes(node.id)) return true;
  }
  return false;
}

export type Step = { ready: string[]; skip: string[] };

/** Which pending nodes can start now and which must be skipped. */
export function nextStep(defs: WorkflowNode[], records: Map<string, NodeRecord>): Step {
  const ready: string[] = [];
  const skip: string[] = [];
  const loops = loopsOf(defs);
  for (const def of defs) {
    const rec = records.get(def.id);
    if (rec?.status !== 'pending') continue;
    const loop = loops.get(def.id);
    if (loop) {
      const status = records.get(loop.id)?.status;
      if (status === 'skipped' || status === 'cancelled') {
        skip.push(def.id);
        continue;
      }
      if (status !== 'running') continue;
    }
    const deps = def.depends_on.map((d) => records.get(d));
    if (!deps.every((d) => d && DONE_NODE.includes(d.status))) continue;
    if (deps.some((d) => d!.status === 'failed' || d!.status === 'cancelled')) continue;
    const allSkipped = deps.length > 0 && deps.every((d) => d!.status === 'skipped');
    if (allSkipped || branchExcluded(def, defs, records)) skip.push(def.id);
    else ready.push(def.id);
  }
  return { ready, skip };
}

/** Nodes with no dependents (a loop's body counts as its loop's dependency): their outputs are the run's output. */
export function sinkNodes(defs: WorkflowNode[]): string[] {
  const depended = new Set(defs.flatMap((d) => (d.type === 'loop' ? [...d.depends_on, ...d.body] : d.depends_on)));
  return defs.filter((d) => !depended.has(d.id)).map((d) => d.id);
}
