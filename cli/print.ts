/** Terminal output for plans and diffs: plain text, one line per fact, readable in CI logs. */
type Change = { field: string; before: unknown; after: unknown };
type Diff = {
  fields: Change[];
  settings: Change[];
  nodes: { added: { id: string; type: string }[]; removed: { id: string; type: string }[]; changed: { id: string; fields: Change[] }[] };
};
export type PlanItem = {
  key: string;
  name: string;
  action: string;
  final_name: string;
  workflow_id: number | null;
  version: number | null;
  diff: Diff | null;
};

const show = (v: unknown) => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

export function printDiff(diff: Diff, out: (line: string) => void): void {
  for (const c of diff.fields) out(`    ~ ${c.field}: ${show(c.before)} -> ${show(c.after)}`);
  for (const c of diff.settings) out(`    ~ settings.${c.field}: ${show(c.before)} -> ${show(c.after)}`);
  for (const n of diff.nodes.added) out(`    + node ${n.id} (${n.type})`);
  for (const n of diff.nodes.removed) out(`    - node ${n.id} (${n.type})`);
  for (const n of diff.nodes.changed) for (const c of n.fields) out(`    ~ node ${n.id}.${c.field}: ${show(c.before)} -> ${show(c.after)}`);
}

export function printPlan(items: PlanItem[], out: (line: string) => void): void {
  for (const p of items) {
    const where = p.workflow_id === null ? '' : ` #${p.workflow_id}`;
    const name = p.final_name === p.name ? p.name : `${p.name} as "${p.final_name}"`;
    out(`${p.action.padEnd(11)} ${p.key} (${name})${where}${p.version ? ` v${p.version}` : ''}`);
    if (p.diff && p.action !== 'unchanged') printDiff(p.diff, out);
  }
}
