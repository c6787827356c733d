import { z } from '@hono/zod-openapi';
import { PROVIDERS } from '../db/schema';

/*
 * A workflow definition is a DAG of nodes. Each node's output (a document) can feed the nodes
 * after it through templates: `{{input.topic}}` reads the run input, `{{nodes.outline.output}}`
 * an upstream node's output. Everything that would make a definition impossible to run is
 * refused here, at save time: unknown node types, dependencies on missing nodes, cycles,
 * template references to nodes that are not upstream, branch targets that do not follow the
 * branch.
 */
export const MAX_NODES = 100;
export const NODE_TYPES = [
  'generate',
  'summarize',
  'analyze',
  'title',
  'transform',
  'branch',
  'approval',
  'notify',
  'task',
  'subchain',
] as const;
export const NOTIFY_CHANNELS = ['email', 'sms', 'push', 'webhook', 'slack', 'teams', 'discord', 'in_app'] as const;
export const ANALYSES = ['sentiment', 'keywords', 'readability', 'language', 'quality'] as const;
const TEMPLATE_ROOTS = new Set(['input', 'nodes', 'run', 'workflow']);

const NodeId = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and "_", starting with a letter, at most 64 characters')
  .openapi({ example: 'outline' });
const Template = z.string().max(20_000);

export const RetryPolicy = z
  .strictObject({
    max_attempts: z.number().int().min(1).max(10).default(3),
    backoff: z.enum(['constant', 'linear', 'exponential']).default('exponential'),
    initial_delay_ms: z.number().int().min(0).max(3_600_000).default(1000),
    max_delay_ms: z.number().int().min(0).max(86_400_000).default(60_000),
    jitter: z.boolean().default(true),
  })
  .openapi('RetryPolicy');

const base = {
  id: NodeId,
  name: z.string().min(1).max(200).optional(),
  depends_on: z.array(NodeId).max(50).default([]).openapi({ description: 'Nodes that must finish before this one starts' }),
  retry: RetryPolicy.optional(),
  timeout_seconds: z.number().int().min(1).max(3600).optional(),
};
/** AI nodes may name a provider and model; otherwise the workflow's settings decide. */
const ai = {
  provider: z.enum(PROVIDERS).optional(),
  model: z.string().min(1).max(100).optional(),
};
const source = Template.optional().openapi({ description: 'Text to work on; defaults to the outputs of the nodes this one depends on' });

const TransformOp = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('uppercase') }),
  z.strictObject({ op: z.literal('lowercase') }),
  z.strictObject({ op: z.literal('trim') }),
  z.strictObject({ op: z.literal('strip_markdown') }),
  z.strictObject({
    op: z.literal('replace'),
    find: z.string().min(1).max(1000),
    replace: z.string().max(10_000),
    all: z.boolean().default(true),
  }),
  z.strictObject({ op: z.literal('truncate'), max_chars: z.number().int().min(1).max(1_000_000) }),
  z.strictObject({ op: z.literal('prepend'), text: Template }),
  z.strictObject({ op: z.literal('append'), text: Template }),
]);

export const NodeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      ...base,
      type: z.literal('generate'),
      prompt: Template.min(1).openapi({ example: 'Write an outline about {{input.topic}}' }),
      system: Template.optional(),
      ...ai,
      max_tokens: z.number().int().min(1).max(8192).optional(),
      temperature: z.number().min(0).max(2).optional(),
    }),
    z.strictObject({ ...base, ...ai, type: z.literal('summarize'), source, max_words: z.number().int().min(10).max(2000).optional() }),
    z.strictObject({
      ...base,
      type: z.literal('analyze'),
      source,
      analyses: z
        .array(z.enum(ANALYSES))
        .min(1)
        .max(ANALYSES.length)
        .default([...ANALYSES]),
    }),
    z.strictObject({
      ...base,
      ...ai,
      type: z.literal('title'),
      source,
      style: z.enum(['blog', 'news', 'academic', 'catchy']).default('blog'),
    }),
    z.strictObject({ ...base, type: z.literal('transform'), source, operations: z.array(TransformOp).min(1).max(20) }),
    z.strictObject({
      ...base,
      type: z.literal('branch'),
      condition: z.strictObject({
        left: Template.min(1).openapi({ example: '{{nodes.review.output}}' }),
        operator: z.enum(['eq', 'neq', 'contains', 'not_contains', 'gt', 'gte', 'lt', 'lte', 'exists', 'matches']),
        right: z.union([z.string().max(1000), z.number()]).optional(),
      }),
      then: z.array(NodeId).max(50).default([]).openapi({ description: 'Nodes run when the condition holds' }),
      else: z.array(NodeId).max(50).default([]).openapi({ description: 'Nodes run when it does not' }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('approval'),
      message: Template.optional(),
      approval_timeout_seconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400)
        .default(86_400),
      on_timeout: z.enum(['reject', 'approve']).default('reject'),
    }),
    z.strictObject({
      ...base,
      type: z.literal('notify'),
      channel: z.enum(NOTIFY_CHANNELS),
      recipient: z.string().min(1).max(500),
      subject: Template.optional(),
      message: Template.min(1),
    }),
    z.strictObject({
      ...base,
      type: z.literal('task'),
      task_type: z.string().min(1).max(64),
      payload: z.record(z.string(), z.unknown()).default({}),
    }),
    z.strictObject({
      ...base,
      type: z.literal('subchain'),
      workflow_id: z.number().int().positive(),
      input: z.record(z.string(), Template).default({}).openapi({ description: 'Child run input; values are templates' }),
    }),
  ])
  .openapi('WorkflowNode');

export type WorkflowNode = z.infer<typeof NodeSchema>;

export const SettingsSchema = z
  .strictObject({
    concurrency: z.number().int().min(1).max(16).default(4).openapi({ description: 'Nodes of one run executing at once' }),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600)
      .openapi({ description: 'Whole-run deadline' }),
    provider: z.enum(PROVIDERS).optional().openapi({ description: 'AI provider for nodes that name none; defaults to AI_PROVIDER' }),
    fallback_providers: z
      .array(z.enum(PROVIDERS))
      .max(PROVIDERS.length)
      .optional()
      .openapi({ description: 'Tried in order when the provider fails' }),
    default_model: z.string().min(1).max(100).optional(),
    context_budget_tokens: z.number().int().min(256).max(2_000_000).optional().openapi({
      description:
        "Prompt budget; larger upstream documents are replaced by summaries. Defaults to the model's context window minus max_tokens",
    }),
  })
  .openapi('WorkflowSettings');

export type WorkflowSettings = z.infer<typeof SettingsSchema>;

/** `{{ a.b.c }}` references in a template, as dotted paths. */
export function templateRefs(template: string): string[][] {
  return [...template.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)].map((m) => m[1]!.split('.'));
}

function nodeTemplates(node: WorkflowNode): [string, string][] {
  const out: [string, string][] = [];
  const add = (field: string, t: string | undefined) => t !== undefined && out.push([field, t]);
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
    case 'approval':
      add('message', node.message);
      break;
    case 'notify':
      add('subject', node.subject);
      add('message', node.message);
      break;
    case 'subchain':
      for (const [k, v] of Object.entries(node.input)) add(`input.${k}`, v);
      break;
    case 'task':
      break;
  }
  return out;
}

type Issue = { path: (string | number)[]; message: string };

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

  // Kahn's algorithm: whatever cannot be ordered is on or behind a cycle.
  const indegree = new Map(nodes.map((n) => [n.id, n.depends_on.length]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const n of nodes) for (const d of n.depends_on) dependents.get(d)!.push(n.id);
  const ready = nodes.filter((n) => n.depends_on.length === 0).map((n) => n.id);
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
    for (const d of nodes[index.get(id)!]!.depends_on) {
      set.add(d);
      for (const a of ancestorsOf(d)) set.add(a);
    }
    ancestors.set(id, set);
    return set;
  };

  nodes.forEach((n, i) => {
    for (const [field, template] of nodeTemplates(n)) {
      for (const ref of templateRefs(template)) {
        const path = ['nodes', i, ...field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p))];
        const [root, target] = ref;
        if (!root || !TEMPLATE_ROOTS.has(root)) {
          issues.push({
            path,
            message: `unknown template variable "{{${ref.join('.')}}}"; use input.*, nodes.<id>.*, run.* or workflow.*`,
          });
        } else if (root === 'nodes') {
          if (!target || !index.has(target)) issues.push({ path, message: `template refers to unknown node "${target ?? ''}"` });
          else if (!ancestorsOf(n.id).has(target)) {
            issues.push({ path, message: `template refers to node "${target}", which is not upstream of "${n.id}"; add it to depends_on` });
          }
        }
      }
    }
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

export const NodesSchema = z
  .array(NodeSchema)
  .min(1)
  .max(MAX_NODES)
  .superRefine((nodes, ctx) => {
    for (const issue of graphIssues(nodes)) ctx.addIssue({ code: 'custom', path: issue.path.slice(1), message: issue.message });
  });
