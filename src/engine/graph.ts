import type { WorkflowNode } from './definition';

type Loop = Extract<WorkflowNode, { type: 'loop' }>;

/** Each loop body node's loop. */
export function loopsOf(defs: WorkflowNode[]): Map<string, Loop> {
  const out = new Map<string, Loop>();
  for (const d of defs) if (d.type === 'loop') for (const b of d.body) out.set(b, d);
  return out;
}

/** Nodes with no dependents (a loop's body counts as its loop's dependency): their outputs are the run's output. */
export function sinkNodes(defs: WorkflowNode[]): string[] {
  const depended = new Set(defs.flatMap((d) => (d.type === 'loop' ? [...d.depends_on, ...d.body] : d.depends_on)));
  return defs.filter((d) => !depended.has(d.id)).map((d) => d.id);
}
