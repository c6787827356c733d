import { z } from '@hono/zod-openapi';
import { oneOfRequired } from '../lib/openapi';
import { RUN_STATUSES } from '../db/schema';
import { jsonObject } from '../lib/json';
import { REVIEW_DECISIONS } from '../engine';

/** Free-form run JSON; bounded in depth and size (src/lib/json.ts) so an input cannot break the run's RPC. */
const Json = jsonObject();

export const BudgetBody = z
  .strictObject({
    max_cost_usd: z.number().positive().max(1_000_000).optional().openapi({ description: 'USD the run may spend', example: 0.5 }),
    max_tokens: z
      .number()
      .int()
      .positive()
      .max(1_000_000_000)
      .optional()
      .openapi({ description: 'Input and output tokens of all its calls together' }),
  })
  .openapi('RunBudget');

export const StartRunBody = z
  .strictObject({
    input: Json.default({}).openapi({ description: 'Run input, read by templates as {{input.*}}', example: { topic: 'solar power' } }),
    budget: BudgetBody.optional().openapi({ description: "The run's budget; each limit given replaces the workflow settings' one" }),
  })
  .openapi('StartRunRequest');

export const EstimateSchema = z
  .object({
    workflow_id: z.number().int(),
    version: z.number().int(),
    nodes: z.array(
      z.object({
        node_id: z.string(),
        type: z.string(),
        calls: z
          .number()
          .int()
          .openapi({ description: 'Model calls the node can make (map items, loop iterations and a repair included)' }),
        tokens_in: z.number().int().openapi({ description: 'Prompt tokens of those calls, estimated' }),
        tokens_out_max: z.number().int().openapi({ description: 'Their output caps together' }),
        cost_usd_max: z.number().nullable().openapi({ description: 'The most those calls can cost; null when a price is unknown' }),
        provider: z.string().nullable(),
        model: z.string().nullable(),
      }),
    ),
    calls: z.number().int(),
    tokens_in: z.number().int(),
    tokens_out_max: z.number().int(),
    tokens_max: z.number().int().openapi({ description: 'What max_tokens budgets count: prompts and outputs together' }),
    cost_usd_max: z.number().nullable().openapi({ description: 'The upper bound in USD; null when a price is unknown' }),
    unpriced: z.array(z.string()).openapi({ description: 'provider/model pairs whose price is unknown' }),
    budget: z.object({
      max_cost_usd: z.number().nullable(),
      max_tokens: z.number().nullable(),
      within: z.boolean().nullable().openapi({ description: 'Whether the upper bound fits the run budget; null without one' }),
    }),
    assumptions: z.array(z.string()).openapi({ description: 'What the upper bound assumes' }),
  })
  .openapi('RunEstimate');

export const ResumeBody = BudgetBody.openapi('ResumeRunRequest', {
  description: 'Optional: a larger budget for a run paused with budget_exceeded (each limit given replaces the current one)',
});

export const ForkBody = z
  .strictObject({
    from_node: z
      .string()
      .min(1)
      .max(64)
      .openapi({ description: 'The node to run again; everything downstream of it runs again too', example: 'draft' }),
    overrides: z
      .record(z.string().max(64), z.record(z.string().max(64), z.unknown()))
      .default({})
      .openapi({
        description:
          "Per node, fields that replace the definition's (shallowly: a nested object such as a map's `node` is replaced whole). Only nodes the fork runs again; never id, type, depends_on, body, then or else",
        example: { draft: { prompt: 'Write it for children: {{nodes.outline.output}}' } },
      }),
    input: Json.optional().openapi({ description: "The fork's input; the forked run's when absent" }),
    budget: BudgetBody.optional().openapi({ description: "The fork's budget (as a run request's)" }),
    version: z.enum(['same', 'latest']).default('same').openapi({
      description:
        "same: the version the forked run ran; latest: the workflow's current version (a node whose definition changed is run again, not reused)",
    }),
  })
  .openapi('ForkRunRequest');

/** The seeds' `POST /api/v3/advanced/workflows/execute` body. */
export const ExecuteBody = z
  .strictObject({
    workflow_id: z.number().int().positive().openapi({ example: 1 }),
    parameters: Json.default({}).openapi({ description: 'Run input', example: { topic: 'solar power' } }),
  })
  .openapi('ExecuteWorkflowRequest');

export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description: 'Same key (per workflow) returns the same run instead of starting another',
    }),
});

export const RunParams = z.object({
  id: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'id', in: 'path' }, example: 1 }),
  runId: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'runId', in: 'path' }, example: 1 }),
});

const CitationView = z
  .object({
    paragraph: z.number().int().openapi({ description: 'Paragraph of the text, from 0 (blank-line separated)' }),
    marker: z.number().int().openapi({ description: 'The [n] the text cites it by' }),
    chunk_id: z.number().int(),
    source_id: z.number().int(),
    document_id: z.number().int().nullable(),
  })
  .openapi('RunCitation');

export const ReviewView = z
  .object({
    node_id: z.string(),
    reviewed_node: z.string().nullable().openapi({ description: 'The node whose document was reviewed' }),
    decision: z.enum(REVIEW_DECISIONS),
    comment: z.string().nullable(),
    actor_user_id: z.number().int().nullable().openapi({ description: 'Who decided; null when the timeout did' }),
    timed_out: z.boolean(),
    at: z.string(),
    document_version: z.number().int().nullable().openapi({ description: "An edit: the document version holding the reviewer's text" }),
  })
  .openapi('RunReview');

const NodeView = z
  .object({
    id: z.string(),
    type: z.string(),
    status: z.enum(['pending', 'running', 'retry_wait', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled']),
    attempts: z.number().int(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    waiting_until: z.string().nullable(),
    error: z.string().nullable(),
    output: z
      .object({
        text: z.string(),
        title: z.string().nullable(),
        data: Json.nullable(),
        document_id: z.number().int().nullable(),
        citations: z
          .array(CitationView)
          .openapi({ description: 'A generate node with `cite`: which paragraph cites which knowledge chunk' }),
      })
      .nullable(),
    provider: z.string().nullable(),
    model: z.string().nullable(),
    language_model: z.boolean().nullable().openapi({
      description:
        'Whether a language model wrote the output: false for the `local` provider (text algorithms), null for a node that called no provider',
    }),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    cost_usd: z.number().openapi({ description: 'USD its calls cost, every attempt included' }),
    context_compacted: z.boolean(),
    child_run_id: z.number().int().nullable(),
    progress: z
      .object({
        total: z.number().int(),
        succeeded: z.number().int(),
        failed: z.number().int(),
        running: z.number().int(),
        pending: z.number().int(),
      })
      .nullable()
      .openapi({ description: "A map node's items: how many are done, running and waiting to start" }),
    iteration: z.number().int().nullable().openapi({ description: "A loop node's current (or last) iteration" }),
    reused_from_run_id: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Set on a fork for a node whose outcome it took over from this run (no provider call)' }),
  })
  .openapi('RunNode');

export const AttemptView = z
  .object({
    node_id: z.string(),
    attempt: z.number().int(),
    status: z.enum(['succeeded', 'failed', 'interrupted', 'cancelled']),
    started_at: z.string(),
    finished_at: z.string(),
    latency_ms: z.number().int(),
    delay_ms: z.number().int(),
    error: z.string().nullable(),
    retryable: z.boolean().nullable(),
    provider: z.string().nullable(),
    model: z.string().nullable(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    cost_usd: z.number().nullable().openapi({ description: 'At the price in force when it ran; null when the price was unknown' }),
  })
  .openapi('NodeAttempt');

export const RunSchema = z
  .object({
    id: z.number().int(),
    workflow_id: z.number().int(),
    workflow_version: z.number().int(),
    status: z.enum(RUN_STATUSES),
    input: Json,
    output: Json.nullable(),
    error: z.string().nullable(),
    parent_run_id: z.number().int().nullable(),
    forked_from: z
      .object({ run_id: z.number().int(), node_id: z.string() })
      .nullable()
      .openapi({ description: 'A fork: the run it was forked from and the node it ran again from' }),
    forks: z.array(z.number().int()).max(100).openapi({ description: 'Runs forked from this one (the first 100)' }),
    budget: z
      .object({ max_cost_usd: z.number().nullable(), max_tokens: z.number().int().nullable() })
      .nullable()
      .openapi({ description: "The run's budget, when it has one" }),
    spent: z
      .object({ tokens_in: z.number().int(), tokens_out: z.number().int(), cost_usd: z.number() })
      .openapi({ description: 'What its calls used so far, every attempt and loop iteration included' }),
    pause_reason: z
      .object({ code: z.literal('budget_exceeded'), limit: z.string(), message: z.string() })
      .nullable()
      .openapi({ description: 'Why the run paused itself: a call would have passed a budget. Resume with a larger one' }),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    last_event_seq: z.number().int(),
    reviews: z.array(ReviewView).openapi({ description: 'Every decision taken at its approval nodes, in order' }),
    nodes: z.array(NodeView),
    attempts: z.array(AttemptView),
  })
  .openapi('Run');

export const RunSummarySchema = z
  .object({
    id: z.number().int(),
    workflow_id: z.number().int(),
    workflow_version: z.number().int(),
    status: z.enum(RUN_STATUSES),
    error: z.string().nullable(),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    cost_usd: z.number(),
    retries: z.number().int(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
  })
  .openapi('RunSummary');

export const EventSchema = z
  .object({ seq: z.number().int(), type: z.string(), at: z.number().int(), node_id: z.string().nullable(), data: Json })
  .openapi('RunEvent');

export const EventsQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .openapi({ param: { name: 'after', in: 'query' }, description: 'Return events with seq greater than this' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(200)
    .openapi({ param: { name: 'limit', in: 'query' } }),
});

export const StreamQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .openapi({ param: { name: 'after', in: 'query' }, description: 'Resume after this seq (or send Last-Event-ID)' }),
});

/** Why an approval signal cannot be applied as given; null when it can. */
function approvalProblem(b: {
  decision?: string | undefined;
  approved?: boolean | undefined;
  comment?: string | undefined;
  content?: string | undefined;
  title?: string | undefined;
}) {
  if ((b.decision === undefined) === (b.approved === undefined)) return 'give decision (or the earlier approved), not both';
  if (b.decision === 'edit' && b.content === undefined) return 'content is required to edit';
  if (b.decision !== 'edit' && (b.content !== undefined || b.title !== undefined)) return 'content and title go with decision edit';
  if (b.decision === 'request_changes' && !b.comment?.trim()) return 'a comment saying what to change is required to request changes';
  return null;
}

export const SignalBody = z
  .discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('approval'),
        node_id: z.string().min(1).max(64),
        decision: z.enum(REVIEW_DECISIONS).optional().openapi({
          description:
            'approve; reject (fails the run); edit (content becomes a new version of the reviewed document, and what the nodes after read); request_changes (comment required: the enclosing loop goes round again, or the reviewed node runs again, with {{review.comments}})',
        }),
        approved: z.boolean().optional().openapi({ description: 'The earlier form: true is approve, false reject. Give this or decision' }),
        comment: z.string().max(2000).optional(),
        content: z.string().min(1).max(500_000).optional().openapi({ description: "edit: the document's new text (Markdown)" }),
        title: z
          .string()
          .trim()
          .min(1)
          .max(300)
          .optional()
          .openapi({ description: "edit: the document's new title (default: its first heading)" }),
      })
      .superRefine((b, ctx) => {
        const problem = approvalProblem(b);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [problem.startsWith('content') ? 'content' : 'decision'] });
      })
      .openapi('RunApprovalSignal', {
        description: "A review decision at an approval node (docs/engine.md, 'Review')",
        // approvalProblem above, in the document's own terms.
        allOf: [
          oneOfRequired('decision', 'approved'),
          {
            anyOf: [
              { properties: { decision: { const: 'edit' } }, required: ['decision', 'content'] },
              {
                properties: { decision: { not: { const: 'edit' } } },
                not: { anyOf: [{ required: ['content'] }, { required: ['title'] }] },
              },
            ],
          },
          {
            anyOf: [
              { properties: { decision: { not: { const: 'request_changes' } } } },
              { required: ['comment'], properties: { comment: { pattern: '\\S' } } },
            ],
          },
        ],
      }),
    z
      .strictObject({
        type: z.literal('event'),
        name: z.string().min(1).max(64).openapi({ example: 'payment.received' }),
        payload: z.unknown().optional().openapi({ description: "The event's data (JSON); a wait_for_event node's output" }),
      })
      .openapi('RunEventSignal', {
        description: 'A named event for a wait_for_event node; kept by the run until such a node starts when none waits yet',
      }),
  ])
  .openapi('RunSignalRequest');

export const AnalyticsSchema = z
  .object({
    workflow_id: z.number().int(),
    window_days: z.number().int(),
    runs: z.object({ total: z.number().int(), by_status: z.record(z.string(), z.number().int()) }),
    success_rate: z.number().nullable(),
    run_duration_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    node_duration_ms: z.record(z.string(), z.object({ count: z.number().int(), p50: z.number().nullable(), p95: z.number().nullable() })),
    tokens: z.object({ in: z.number().int(), out: z.number().int() }),
    cost_usd: z.object({
      total: z.number().openapi({ description: 'What the window’s runs spent at the prices in force (unpriced calls count 0)' }),
      per_run: z.number().nullable().openapi({ description: 'The mean over finished runs' }),
    }),
    retries: z.number().int(),
    runs_per_day: z.array(
      z.object({ day: z.string(), runs: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), cost_usd: z.number() }),
    ),
  })
  .openapi('WorkflowAnalytics');
