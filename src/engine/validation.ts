import { z } from '@hono/zod-openapi';
import { MAX_NODES, NodeSchema, type WorkflowNode, type WorkflowSettings } from './definition';
import { soleRef, templateRefs } from './template';

/*
 * Everything that would make a definition impossible to run is refused when it is saved: unknown
 * node types, dependencies on missing nodes, cycles, template references to nodes that are not
 * upstream (or to `item`/`loop` outside a map or a loop), branch targets that do not follow the
 * branch, loops whose body is reached from outside.
 *
 * A loop repeats its body without a cycle in the graph: its body nodes depend (implicitly) on
 * what the loop depends on, and the loop (implicitly) on its body, so the body runs between the
 * loop's start and its end, and what follows the loop sees the last iteration's outputs.
 */

type Issue = { path: (string | number)[]; message: string };
type Scope = 'node' | 'item' | 'loop';
type Field = { field: string; template: string; scope: Scope };

const ROOTS: Record<Scope, Set<string>> = {
  node: new Set(['input', 'nodes', 'run', 'workflow', 'review']),
  item: new Set(['input', 'nodes', 'run', 'workflow', 'review', 'item', 'index']),
  loop: new Set(['input', 'nodes', 'run', 'workflow', 'review', 'loop']),
};

/** The strings of a task payload (templates), with their paths. */
function payloadStrings(value: unknown, path: string): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => payloadStrings(v, `${path}.${i}`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => payloadStrings(v, `${path}.${k}`));
  return [];
}

/** A node's template fields, with what their templates may read. `inLoop`: the node is in a loop's body. */
function templateFields(node: WorkflowNode, inLoop: boolean): Field[] {
  const out: Field[] = [];
  const scope: Scope = inLoop ? 'loop' : 'node';
  const add = (field: string, t: string | undefined, s: Scope = scope) => {
    if (t !== undefined) out.push({ field, template: t, scope: s });
  };
  switch (node.type) {
    case 'generate':
      add('prompt', node.prompt);
      add('system', node.system);
      break;
    case 'summarize':
    case 'analyze':
    case 'title':
      add('source', node.source);
      break;
    case 'transform':
      add('source', node.source);
      node.operations.forEach((op, i) => {
        if (op.op === 'prepend' || op.op === 'append') add(`operations.${i}.text`, op.text);
      });
      break;
    case 'branch':
      add('condition.left', node.condition.left);
      if (typeof node.condition.right === 'string') add('condition.right', node.condition.right);
      break;
    case 'loop':
      add('until.left', node.until.left, 'loop');
      if (typeof node.until.right === 'string') add('until.right', node.until.right, 'loop');
      break;
    case 'approval':
      add('message', node.message);
      break;
    case 'retrieve':
      add('query', node.query);
      break;
    case 'notify':
      add('recipient', node.recipient);
      add('subject', node.subject);
      add('message', node.message);
      for (const [k, v] of Object.entries(node.variables ?? {})) add(`variables.${k}`, v);
      break;
    case 'subchain':
      for (const [k, v] of Object.entries(node.input)) add(`input.${k}`, v);
      break;
    case 'wait':
      add('until', node.until);
      break;
    case 'map': {
      add('items', node.items);
      const inner = { ...node.node, id: node.id, depends_on: [] } as WorkflowNode;
      for (const f of templateFields(inner, false)) add(`node.${f.field}`, f.template, 'item');
      break;
    }
    case 'task':
      for (const [path, t] of payloadStrings(node.payload, 'payload')) add(path, t);
      break;
    case 'wait_for_event':
      break;
  }
  return out;
}

const pathOf = (i: number, field: string) => ['nodes', i, ...field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p))];

/** Graph checks over a syntactically valid node list. Returns zod-style issues; empty means runnable. */
export function graphIssues(nodes: WorkflowNode[]): Issue[] {
  const issues: Issue[] = [];
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (index.has(n.id)) issues.push({ path: ['nodes', i, 'id'], message: `duplicate node id "${n.id}"` });
    else index.set(n.id, i);
  });
  nodes.forEach((n, i) => {
    n.depends_on.forEach((d, j) => {
      if (d === n.id) issues.push({ path: ['nodes', i, 'depends_on', j], message: 'a node cannot depend on itself' });
      else if (!index.has(d)) issues.push({ path: ['nodes', i, 'depends_on', j], message: `unknown node "${d}"` });
    });
  });
  if (issues.length) return issues;

  const loopOf = loopMembership(nodes, index, issues);
  if (issues.length) return issues;
  const deps = effectiveDeps(nodes, loopOf);

  // Kahn's algorithm over the effective graph: whatever cannot be ordered is on or behind a cycle.
  const indegree = new Map(nodes.map((n) => [n.id, deps.get(n.id)!.length]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const d of deps.get(n.id)!) dependents.get(d)!.push(n.id);
  const ready = nodes.filter((n) => deps.get(n.id)!.length === 0).map((n) => n.id);
  let ordered = 0;
  while (ready.length) {
    const id = ready.pop()!;
    ordered++;
    for (const next of dependents.get(id)!) {
      indegree.set(next, indegree.get(next)! - 1);
      if (indegree.get(next) === 0) ready.push(next);
    }
  }
  if (ordered < nodes.length) {
    const stuck = nodes.filter((n) => indegree.get(n.id)! > 0).map((n) => n.id);
    return [{ path: ['nodes'], message: `dependency cycle among: ${stuck.join(', ')}` }];
  }

  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (id: string): Set<string> => {
    let set = ancestors.get(id);
    if (set) return set;
    set = new Set();
    for (const d of deps.get(id)!) {
      set.add(d);
      for (const a of ancestorsOf(d)) set.add(a);
    }
    ancestors.set(id, set);
    return set;
  };

  nodes.forEach((n, i) => {
    const loop = loopOf.get(n.id);
    for (const { field, template, scope } of templateFields(n, loop !== undefined)) {
      for (const ref of templateRefs(template)) {
        const path = pathOf(i, field);
        const [root, target] = ref;
        if (typeof root !== 'string' || !ROOTS[scope].has(root)) {
          const allowed = [...ROOTS[scope]].map((r) => (r === 'nodes' ? 'nodes.<id>.*' : `${r}.*`)).join(', ');
          issues.push({ path, message: `unknown template variable "{{${ref.join('.')}}}" here; use ${allowed}` });
        } else if (root === 'nodes') {
          if (typeof target !== 'string' || !index.has(target))
            issues.push({ path, message: `template refers to unknown node "${target ?? ''}"` });
          else if (!ancestorsOf(n.id).has(target) && !(n.type === 'loop' && n.body.includes(target))) {
            issues.push({ path, message: `template refers to node "${target}", which is not upstream of "${n.id}"; add it to depends_on` });
          }
        } else if (root === 'review') {
          if (ref.length !== 2 || ref[1] !== 'comments') issues.push({ path, message: 'use review.comments' });
        } else if (root === 'loop') {
          const own = n.type === 'loop' ? n : loop;
          if (ref[1] === 'previous' && !(typeof ref[2] === 'string' && own?.body.includes(ref[2])))
            issues.push({ path, message: `loop.previous.<id> names a node of this loop's body (${own?.body.join(', ')})` });
          else if (ref[1] !== 'previous' && ref[1] !== 'iteration')
            issues.push({ path, message: 'use loop.iteration or loop.previous.<id>.output' });
        }
      }
    }
    if (n.type === 'map') {
      const ref = soleRef(n.items);
      if (!ref || (ref[0] !== 'nodes' && ref[0] !== 'input'))
        issues.push({ path: ['nodes', i, 'items'], message: 'one reference to a list, such as {{nodes.outline.output.sections}}' });
    }
    // A generate node, or a map's per-item one, cites retrieve nodes upstream of it.
    const cites =
      n.type === 'generate'
        ? { at: ['nodes', i], cite: n.cite }
        : n.type === 'map' && n.node.type === 'generate'
          ? { at: ['nodes', i, 'node'], cite: n.node.cite }
          : null;
    cites?.cite?.forEach((id, j) => {
      if (nodes[index.get(id) ?? -1]?.type !== 'retrieve')
        issues.push({ path: [...cites.at, 'cite', j], message: `cite names retrieve nodes; "${id}" is not one` });
      else if (!ancestorsOf(n.id).has(id))
        issues.push({ path: [...cites.at, 'cite', j], message: `"${id}" is not upstream of "${n.id}"; add it to depends_on` });
    });
    if (n.type === 'wait' && (n.duration_seconds === undefined) === (n.until === undefined))
      issues.push({ path: ['nodes', i], message: 'give either duration_seconds or until' });
    if (n.type === 'branch') {
      for (const key of ['then', 'else'] as const) {
        n[key].forEach((t, j) => {
          const ti = index.get(t);
          if (ti === undefined) issues.push({ path: ['nodes', i, key, j], message: `unknown node "${t}"` });
          else if (!nodes[ti]!.depends_on.includes(n.id)) {
            issues.push({ path: ['nodes', i, key, j], message: `branch target "${t}" must list "${n.id}" in its depends_on` });
          }
        });
      }
    }
  });
  return issues;
}

/**
 * Which loop each body node belongs to, checking the body rules: body nodes exist, belong to one
 * loop, are not loops themselves, and nothing outside the body depends on them directly (it
 * depends on the loop, and sees the last iteration's outputs).
 */
function loopMembership(nodes: WorkflowNode[], index: Map<string, number>, issues: Issue[]) {
  const loopOf = new Map<string, Extract<WorkflowNode, { type: 'loop' }>>();
  nodes.forEach((n, i) => {
    if (n.type !== 'loop') return;
    n.body.forEach((b, j) => {
      const bi = index.get(b);
      const at = ['nodes', i, 'body', j];
      if (bi === undefined) issues.push({ path: at, message: `unknown node "${b}"` });
      else if (b === n.id) issues.push({ path: at, message: 'a loop cannot be its own body' });
      else if (nodes[bi]!.type === 'loop') issues.push({ path: at, message: 'loops do not nest: a body node cannot be a loop' });
      else if (loopOf.has(b)) issues.push({ path: at, message: `"${b}" is already in the body of loop "${loopOf.get(b)!.id}"` });
      else loopOf.set(b, n);
    });
    if (n.depends_on.some((d) => n.body.includes(d)))
      issues.push({ path: ['nodes', i, 'depends_on'], message: 'a loop depends on what comes before it, not on its body' });
  });
  nodes.forEach((n, i) => {
    const own = loopOf.get(n.id);
    n.depends_on.forEach((d, j) => {
      const theirs = loopOf.get(d);
      if (theirs && theirs !== own)
        issues.push({
          path: ['nodes', i, 'depends_on', j],
          message: `"${d}" is in the body of loop "${theirs.id}": depend on "${theirs.id}" instead`,
        });
    });
  });
  return loopOf;
}

/** Each node's dependencies with the loops' implicit ones added (see the header). */
function effectiveDeps(nodes: WorkflowNode[], loopOf: Map<string, Extract<WorkflowNode, { type: 'loop' }>>) {
  return new Map(
    nodes.map((n) => {
      const extra = n.type === 'loop' ? n.body : (loopOf.get(n.id)?.depends_on ?? []);
      return [n.id, [...new Set([...n.depends_on, ...extra])]] as const;
    }),
  );
}

/** The run input keys a definition's templates read (`{{input.x}}`, `{{input.x.y}}` → x). */
export function inputKeys(nodes: WorkflowNode[]): string[] {
  const keys = new Set<string>();
  for (const n of nodes) {
    for (const { template } of templateFields(n, true)) {
      for (const ref of templateRefs(template)) if (ref[0] === 'input' && typeof ref[1] === 'string') keys.add(ref[1]);
    }
  }
  return [...keys];
}

/**
 * A run's input with the definition's declared defaults filled in, and the keys its templates read
 * that it still lacks (a run with any missing is refused, rather than rendering them empty).
 */
export function prepareInput(
  nodes: WorkflowNode[],
  settings: WorkflowSettings,
  given: Record<string, unknown>,
): { input: Record<string, unknown>; missing: string[] } {
  const input = { ...given };
  for (const [key, spec] of Object.entries(settings.inputs ?? {}))
    if (!(key in input) && spec.default !== undefined) input[key] = spec.default;
  return { input, missing: inputKeys(nodes).filter((k) => !(k in input)) };
}

export const NodesSchema = z
  .array(NodeSchema)
  .min(1)
  .max(MAX_NODES)
  .superRefine((nodes, ctx) => {
    for (const issue of graphIssues(nodes)) ctx.addIssue({ code: 'custom', path: issue.path.slice(1), message: issue.message });
  });
