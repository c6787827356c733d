/** A workflow definition as versions store it: what a diff compares and a rollback restores. */
export type Definition = {
  name: string;
  description: string | null;
  nodes: unknown[];
  settings: Record<string, unknown>;
};

export type FieldChange = { field: string; before: unknown; after: unknown };
type NodeRef = { id: string; type: string };

export type DefinitionDiff = {
  identical: boolean;
  /** `name` and `description`, when they differ. */
  fields: FieldChange[];
  /** Settings keys whose values differ (added and removed keys included). */
  settings: FieldChange[];
  nodes: { added: NodeRef[]; removed: NodeRef[]; changed: (NodeRef & { fields: FieldChange[] })[] };
};

/** JSON with object keys sorted, so two equal values always print the same (key order is not meaning). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function objectChanges(before: Record<string, unknown>, after: Record<string, unknown>): FieldChange[] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((k) => !same(before[k], after[k]))
    .map((field) => ({ field, before: before[field] ?? null, after: after[field] ?? null }));
}

type NodeLike = Record<string, unknown> & { id: string; type: string };
const asNodes = (nodes: unknown[]) =>
  new Map(
    nodes
      .filter((n): n is NodeLike => !!n && typeof n === 'object' && typeof (n as NodeLike).id === 'string')
      .map((n) => [n.id, n] as const),
  );

/**
 * Node-level difference between two definitions: nodes are matched by id (their position does
 * not matter), and a changed node lists the fields that differ with both values.
 */
export function diffDefinitions(from: Definition, to: Definition): DefinitionDiff {
  const a = asNodes(from.nodes);
  const b = asNodes(to.nodes);
  const ref = (n: NodeLike): NodeRef => ({ id: n.id, type: String(n.type) });
  const added = [...b.values()].filter((n) => !a.has(n.id)).map(ref);
  const removed = [...a.values()].filter((n) => !b.has(n.id)).map(ref);
  const changed = [...b.values()]
    .filter((n) => a.has(n.id))
    .map((n) => ({ ...ref(n), fields: objectChanges(a.get(n.id)!, n) }))
    .filter((c) => c.fields.length > 0);
  const fields = objectChanges({ name: from.name, description: from.description }, { name: to.name, description: to.description });
  const settings = objectChanges(from.settings, to.settings);
  return {
    identical: !fields.length && !settings.length && !added.length && !removed.length && !changed.length,
    fields,
    settings,
    nodes: { added, removed, changed },
  };
}
