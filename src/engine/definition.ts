import { z } from '@hono/zod-openapi';
import { PROVIDERS } from '../db/schema';
import { JsonSchemaSubset } from './json-schema';
import { jsonObject } from '../lib/json';

/*
 * The workflow definition language: the node types and the workflow's settings. A definition is a
 * graph of nodes; each node's output (a document, or structured data) feeds the nodes after it
 * through templates: `{{input.topic}}` reads the run input, `{{nodes.outline.output}}` an upstream
 * node's output. Two node types repeat work inside one run: a `map` runs a node once per item of
 * a list, a `loop` runs its body of nodes again until a condition holds. What would make a
 * definition impossible to run is refused when it is saved (validation.ts).
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
  'map',
  'loop',
  'wait',
  'wait_for_event',
  'retrieve',
] as const;
/** A name for the events a wait_for_event node waits for. */
export const EventName = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter, at most 64 characters');

export const NOTIFY_CHANNELS = ['email', 'sms', 'push', 'webhook', 'slack', 'teams', 'discord', 'in_app'] as const;
/** The background task types a task node may submit (the ones people submit through /api/v3/tasks). */
export const NODE_TASK_TYPES = ['workflow_run', 'webhook_call', 'data_processing', 'cleanup'] as const;
export const ANALYSES = ['sentiment', 'keywords', 'readability', 'language', 'quality'] as const;

export const NodeId = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9_]{0,63}$/, 'lower-case letters, digits and "_", starting with a letter, at most 64 characters')
  .openapi({ example: 'outline' });
export const Template = z.string().max(20_000);

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

/** A condition in the branch language: two rendered operands and an operator. */
export const Condition = z
  .strictObject({
    left: Template.min(1).openapi({ example: '{{nodes.review.output}}' }),
    operator: z.enum(['eq', 'neq', 'contains', 'not_contains', 'gt', 'gte', 'lt', 'lte', 'exists', 'matches']),
    right: z.union([z.string().max(1000), z.number()]).optional(),
  })
  .openapi('Condition');

const GenerateFields = {
  prompt: Template.min(1).openapi({ example: 'Write an outline about {{input.topic}}' }),
  system: Template.optional(),
  cite: z.array(NodeId).min(1).max(5).optional().openapi({
    description:
      'Retrieve nodes upstream whose passages the model is given as numbered sources and asked to cite as [n]; the document records which paragraph cites which chunk',
  }),
  ...ai,
  max_tokens: z.number().int().min(1).max(8192).optional(),
  temperature: z.number().min(0).max(2).optional(),
  output_schema: JsonSchemaSubset.refine((s) => s.type === 'object', 'the root of an output_schema is an object (type: object)')
    .optional()
    .openapi({
      description:
        'Ask for JSON matching this schema (docs/engine.md, "Structured output"): validated, repaired once, stored as the output\'s data',
    }),
};
const SummarizeFields = { ...ai, source, max_words: z.number().int().min(10).max(2000).optional() };
const AnalyzeFields = {
  source,
  analyses: z
    .array(z.enum(ANALYSES))
    .min(1)
    .max(ANALYSES.length)
    .default([...ANALYSES]),
};
const TitleFields = { ...ai, source, style: z.enum(['blog', 'news', 'academic', 'catchy']).default('blog') };
const TransformFields = { source, operations: z.array(TransformOp).min(1).max(20) };
const SubchainFields = {
  workflow_id: z.number().int().positive(),
  input: z.record(z.string(), Template).default({}).openapi({ description: 'Child run input; values are templates' }),
};

/** What a map node runs per item: one executable node, with `{{item}}` and `{{index}}` in its templates. */
const MapItemNode = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('generate'), ...GenerateFields, retry: RetryPolicy.optional() }),
    z.strictObject({ type: z.literal('summarize'), ...SummarizeFields, retry: RetryPolicy.optional() }),
    z.strictObject({ type: z.literal('analyze'), ...AnalyzeFields }),
    z.strictObject({ type: z.literal('title'), ...TitleFields, retry: RetryPolicy.optional() }),
    z.strictObject({ type: z.literal('transform'), ...TransformFields }),
    z.strictObject({ type: z.literal('subchain'), ...SubchainFields }),
  ])
  .openapi('MapItemNode');

export const NodeSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ ...base, type: z.literal('generate'), ...GenerateFields }),
    z.strictObject({ ...base, type: z.literal('summarize'), ...SummarizeFields }),
    z.strictObject({ ...base, type: z.literal('analyze'), ...AnalyzeFields }),
    z.strictObject({ ...base, type: z.literal('title'), ...TitleFields }),
    z.strictObject({ ...base, type: z.literal('transform'), ...TransformFields }),
    z.strictObject({
      ...base,
      type: z.literal('branch'),
      condition: Condition,
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
      recipient: Template.min(1).max(500).openapi({ description: 'A user (id, username, email), address, number or URL; a template' }),
      subject: Template.optional(),
      message: Template.min(1).optional().openapi({ description: 'The text, a template; or give template_id' }),
      template_id: z.number().int().positive().optional().openapi({ description: 'One of your notification templates' }),
      variables: z
        .record(z.string().max(64), Template.max(2000))
        .refine((v) => Object.keys(v).length <= 50, 'at most 50 variables')
        .optional()
        .openapi({ description: "The template's variables; values are templates" }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('task'),
      task_type: z.enum(NODE_TASK_TYPES),
      payload: jsonObject({ maxBytes: 20_000, maxKeyLength: 64 })
        .default({})
        .openapi({ description: 'The task type’s payload; strings in it are templates' }),
      wait: z
        .boolean()
        .default(true)
        .openapi({ description: 'Wait for the task to end and output its result (default), or go on once it is queued' }),
    }),
    z.strictObject({ ...base, type: z.literal('subchain'), ...SubchainFields }),
    z.strictObject({
      ...base,
      type: z.literal('map'),
      items: Template.min(1).openapi({
        description: 'One reference to a list from upstream; each entry is {{item}} in `node`',
        example: '{{nodes.outline.output.sections}}',
      }),
      node: MapItemNode,
      concurrency: z.number().int().min(1).max(16).default(4).openapi({ description: 'Items executing at once' }),
      max_items: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .openapi({ description: 'A longer list fails the node (it is never cut short)' }),
      on_item_failure: z.enum(['fail_fast', 'collect']).default('fail_fast').openapi({
        description: 'fail_fast: the first failed item fails the node; collect: run every item, failures listed in the output',
      }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('loop'),
      body: z.array(NodeId).min(1).max(20).openapi({ description: 'The nodes run again on each iteration' }),
      until: Condition.openapi({ description: 'Checked after each iteration; the loop ends when it holds' }),
      max_iterations: z.number().int().min(1).max(20).default(5),
      on_max: z
        .enum(['continue', 'fail'])
        .default('continue')
        .openapi({ description: 'When max_iterations pass without the condition: go on with the last iteration, or fail' }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('wait'),
      duration_seconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400)
        .optional(),
      until: Template.optional().openapi({ description: 'An ISO 8601 instant (a template); give this or duration_seconds' }),
    }),
    z.strictObject({
      ...base,
      type: z.literal('wait_for_event'),
      event: EventName,
      schema: JsonSchemaSubset.optional().openapi({ description: "The payload's JSON Schema (the subset in docs/engine.md)" }),
      timeout_seconds: z
        .number()
        .int()
        .min(1)
        .max(30 * 86_400)
        .default(86_400),
      on_timeout: z.enum(['fail', 'continue']).default('fail'),
    }),
    z.strictObject({
      ...base,
      type: z.literal('retrieve'),
      knowledge_base_id: z.number().int().positive().openapi({ description: 'One of your knowledge bases' }),
      query: Template.min(1).openapi({ example: '{{input.question}}' }),
      top_k: z.number().int().min(1).max(20).default(4).openapi({ description: 'At most this many passages, best first' }),
      min_score: z
        .number()
        .min(-1)
        .max(1)
        .optional()
        .openapi({ description: "None below this cosine similarity to the query (under the base's embedding)" }),
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
    inputs: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
        z.strictObject({ default: z.unknown().optional(), description: z.string().max(500).optional() }),
      )
      .optional()
      .openapi({
        description:
          'Declared run inputs. A run whose templates read {{input.x}} must be given x, unless x is declared here with a default',
      }),
    max_cost_usd: z.number().positive().max(1_000_000).optional().openapi({
      description:
        'What one run may spend, in USD at the prices in force. A call that could pass it is not made: the run pauses with reason budget_exceeded',
    }),
    max_tokens: z.number().int().positive().max(1_000_000_000).optional().openapi({
      description:
        "The run's token budget: input and output tokens of all its calls together (not a node's output cap, which is the node's max_tokens)",
    }),
    context_budget_tokens: z.number().int().min(256).max(2_000_000).optional().openapi({
      description:
        "Prompt budget; larger upstream documents are replaced by summaries. Defaults to the model's context window minus max_tokens",
    }),
  })
  .openapi('WorkflowSettings');

export type WorkflowSettings = z.infer<typeof SettingsSchema>;
