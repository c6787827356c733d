import { z } from '@hono/zod-openapi';
import { MAX_NODES, NodeSchema } from '../engine';
import { MAX_TAGS, Tag } from './tags';

/*
 * The portable bundle: workflows as files, to move between deployments and to keep under version
 * control. It holds definitions only — no ids, owners or timestamps of the deployment it came
 * from, and no secrets (definitions hold none: credentials live in provider settings and channel
 * configurations, which are not exported). A subchain names its target by the target's `key` in
 * the same bundle (`workflow: summarizer`) instead of a numeric `workflow_id`; import maps keys
 * to the ids of the deployment it writes to.
 *
 * Format versions: `version` is 1. A reader refuses versions it does not know; a change that an
 * older reader would misread gets a new number, and the JSON Schema of each number stays served
 * at /api/v3/schemas/workflow-bundle/v<number>.
 */
export const BUNDLE_FORMAT = 'dwc-workflow-bundle';
export const BUNDLE_VERSION = 1;
export const MAX_BUNDLE_WORKFLOWS = 200;
export const MAX_BUNDLE_VERSIONS = 1000;

const KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const BundleKey = z
  .string()
  .max(64)
  .regex(KEY_PATTERN, 'lower-case letters, digits, "-" and "_", at most 64 characters')
  .openapi({ example: 'blog-post' });

/** Nodes as the bundle holds them; each is checked by the engine's own schema on import (bundleNodes). */
const PortableNodes = z
  .array(z.record(z.string().max(64), z.unknown()))
  .max(MAX_NODES)
  .openapi({ description: "The engine's nodes; a subchain names its target as `workflow: <key>` instead of `workflow_id`" });

const Definition = {
  name: z.string().min(1).max(200),
  description: z.string().max(2000).nullable().optional(),
  settings: z.record(z.string().max(64), z.unknown()).optional(),
  nodes: PortableNodes,
};

export const BundleWorkflow = z
  .strictObject({
    key: BundleKey,
    ...Definition,
    tags: z.array(Tag).max(MAX_TAGS).optional(),
    versions: z
      .array(z.strictObject(Definition))
      .max(MAX_BUNDLE_VERSIONS)
      .optional()
      .openapi({ description: 'Earlier versions, oldest first (the definition above is the newest)' }),
  })
  .openapi('BundleWorkflow');

export const BundleSchema = z
  .strictObject({
    $schema: z.string().max(500).optional(),
    format: z.literal(BUNDLE_FORMAT),
    version: z.literal(BUNDLE_VERSION),
    exported_at: z.string().max(40).optional(),
    workflows: z.array(BundleWorkflow).max(MAX_BUNDLE_WORKFLOWS),
  })
  .openapi('WorkflowBundle');

export type Bundle = z.infer<typeof BundleSchema>;
export type BundleWorkflowT = z.infer<typeof BundleWorkflow>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Every place in a node list that names another workflow: subchain nodes, at the top level and as
 * a map node's item node. The engine owns where nodes can nest; this follows the two places it
 * has today (a new nesting node type would need adding here).
 */
export function subchainSites(nodes: unknown[]): { path: (string | number)[]; node: Obj }[] {
  const sites: { path: (string | number)[]; node: Obj }[] = [];
  nodes.forEach((n, i) => {
    if (!isObj(n)) return;
    if (n.type === 'subchain') sites.push({ path: [i], node: n });
    if (isObj(n.node) && n.node.type === 'subchain') sites.push({ path: [i, 'node'], node: n.node });
  });
  return sites;
}

/** A copy of the nodes with every subchain's target rewritten by `map` (from `workflow_id` to `workflow` or back). */
export function mapSubchains(nodes: unknown[], map: (node: Obj) => Obj): unknown[] {
  const copy = structuredClone(nodes);
  for (const { path, node } of subchainSites(copy)) {
    const replaced = map(node);
    const [i, field] = path as [number, string | undefined];
    if (field) (copy[i] as Obj)[field] = replaced;
    else copy[i] = replaced;
  }
  return copy;
}

/** A JSON path (`$[3].node.workflow_id`) for SQLite's json_set. */
export const jsonPath = (path: (string | number)[]) =>
  `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}.workflow_id`;

/** A file- and URL-safe key from a name, unique among `taken`. */
export function keyFor(name: string, taken: Set<string>): string {
  const base =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 56) || 'workflow';
  let key = base;
  for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
  taken.add(key);
  return key;
}

/**
 * The bundle's JSON Schema, for editors and CI: the bundle's own fields from BundleSchema, and
 * each node described by the engine's NodeSchema with subchains' `workflow_id` replaced by the
 * bundle's `workflow` key. Built from the live schemas, so a node type the engine gains appears
 * here without a change.
 */
export function bundleJsonSchema(id: string): Record<string, unknown> {
  const node = z.toJSONSchema(NodeSchema, { io: 'input', unrepresentable: 'any' }) as Obj;
  const swap = (s: unknown): void => {
    if (Array.isArray(s)) {
      for (const x of s) swap(x);
      return;
    }
    if (!isObj(s)) return;
    const props = s.properties;
    if (isObj(props) && isObj(props.type) && props.type.const === 'subchain' && 'workflow_id' in props) {
      delete props.workflow_id;
      props.workflow = { type: 'string', pattern: KEY_PATTERN.source, description: 'The key of a workflow in this bundle' };
      if (Array.isArray(s.required)) s.required = s.required.map((r) => (r === 'workflow_id' ? 'workflow' : r));
    }
    for (const v of Object.values(s)) swap(v);
  };
  swap(node);
  // Root-relative references ("#/$defs/…") stay valid when the node's definitions join the bundle's.
  const { $schema: _drop, $defs: nodeDefs, ...nodeSchema } = node;
  const bundle = z.toJSONSchema(BundleSchema, { io: 'input', unrepresentable: 'any' }) as Obj;
  const nodesOf = (def: unknown) => {
    if (isObj(def) && isObj(def.properties) && isObj(def.properties.nodes)) (def.properties.nodes as Obj).items = { $ref: '#/$defs/node' };
  };
  const wf = (bundle.properties as Obj).workflows as Obj;
  nodesOf(wf.items);
  nodesOf(((wf.items as Obj).properties as Obj).versions && (((wf.items as Obj).properties as Obj).versions as Obj).items);
  return {
    ...bundle,
    $id: id,
    title: 'Document Workflow Chain workflow bundle, format version 1',
    $defs: { ...(isObj(nodeDefs) ? nodeDefs : {}), ...(isObj(bundle.$defs) ? bundle.$defs : {}), node: nodeSchema },
  };
}
