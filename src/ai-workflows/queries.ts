import { z } from '@hono/zod-openapi';
import { and, count, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { aiWorkflows, RUN_STATUSES, runs, workflows, type RunStatus } from '../db/schema';
import { ApiError } from '../lib/errors';
import { toIso } from '../lib/time';
import type { AiWorkflowCreateBody } from './schemas';
import { findTemplate, paramsSchema, TEMPLATE_NAMES, type Template } from './templates';
import { NodesSchema, type WorkflowNode } from '../engine';
import { LANGUAGE_MODEL_PROVIDERS, PROVIDERS } from '../ai';
import { createWorkflow, deleteWorkflow } from '../workflows';

type Row = { ai: typeof aiWorkflows.$inferSelect; wf: typeof workflows.$inferSelect };

export const publicId = (id: number) => `ai_workflow_${id}`;

export function publicAiWorkflow({ ai, wf }: Row) {
  return {
    id: publicId(ai.id),
    name: wf.name,
    description: wf.description,
    template_name: ai.template,
    workflow_type: ai.workflowType,
    ai_provider: ai.provider,
    model: ai.model,
    input_data: ai.inputData,
    workflow_id: wf.id,
    workflow_version: wf.version,
    node_count: (wf.nodes as unknown[]).length,
    created_at: toIso(ai.createdAt),
  };
}

type Issue = { path: (string | number)[]; message: string };
const invalid = (details: Issue[]) => new ApiError('validation_error', 'Request validation failed', { details });

/**
 * A template's nodes for the given parameters, through the same validator every workflow passes.
 * Templates are code, so a failure here is a bug in a template; the unit test builds every one.
 */
export function buildNodes(t: Template, input: Record<string, unknown>): WorkflowNode[] {
  const parsed = NodesSchema.safeParse(t.build(input));
  if (!parsed.success) throw new Error(`template ${t.name} builds an invalid workflow: ${parsed.error.message}`);
  return parsed.data;
}

/** The template named by the body, and its parameters checked and completed with defaults. */
export function resolveTemplate(body: z.infer<typeof AiWorkflowCreateBody>): { template: Template; input: Record<string, unknown> } {
  const name = body.template_name ?? body.workflow_type!;
  const template = findTemplate(name);
  if (!template)
    throw invalid([{ path: ['workflow_type'], message: `no template named "${name}"; expected one of ${TEMPLATE_NAMES.join(', ')}` }]);
  if (body.workflow_type !== undefined && body.workflow_type !== template.workflow_type && body.workflow_type !== template.name) {
    throw invalid([
      {
        path: ['workflow_type'],
        message: `template "${template.name}" is of type "${template.workflow_type}", not "${body.workflow_type}"`,
      },
    ]);
  }
  const params = paramsSchema(template).safeParse(body.input_data);
  if (!params.success)
    throw invalid(
      params.error.issues.map((i) => ({
        path: ['input_data', ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
        message: i.message,
      })),
    );
  return { template, input: params.data };
}

/**
 * Creates the ordinary workflow (its own batch: row, version 1, audit), then the row that makes it
 * an AI workflow. D1 offers no transaction spanning both calls, so if the second write fails the
 * workflow is deleted again rather than left behind half-made.
 */
export async function createAiWorkflow(
  env: Env,
  db: DB,
  meta: RequestMeta,
  ownerId: number,
  body: z.infer<typeof AiWorkflowCreateBody>,
): Promise<Row> {
  const { template, input } = resolveTemplate(body);
  const provider = body.ai_provider ?? z.enum(PROVIDERS).catch('local').parse(env.AI_PROVIDER);
  if (template.requires_language_model && provider === 'local')
    throw new ApiError(
      'unsupported_by_provider',
      `The ${template.name} template needs a language model, and the local provider is text algorithms, not one: set ai_provider (${LANGUAGE_MODEL_PROVIDERS.join(', ')}) or AI_PROVIDER`,
      { details: { provider, providers: LANGUAGE_MODEL_PROVIDERS } },
    );
  const nodes = buildNodes(template, input);
  const settings = { concurrency: 4, timeout_seconds: 3600, provider, ...(body.model ? { default_model: body.model } : {}) };
  const wf = await createWorkflow(db, meta, ownerId, { name: body.name, description: body.description ?? null, nodes, settings });
  try {
    const ai = await db
      .insert(aiWorkflows)
      .values({
        ownerId,
        workflowId: wf.id,
        template: template.name,
        workflowType: template.workflow_type,
        provider,
        model: body.model ?? null,
        inputData: input,
      })
      .returning()
      .get();
    return { ai, wf };
  } catch (err) {
    await deleteWorkflow(db, meta, ownerId, wf.id);
    throw err;
  }
}

const live = (ownerId: number) => and(eq(aiWorkflows.ownerId, ownerId), isNull(workflows.deletedAt));

export async function getAiWorkflow(db: DB, ownerId: number, id: number): Promise<Row | undefined> {
  return db
    .select({ ai: aiWorkflows, wf: workflows })
    .from(aiWorkflows)
    .innerJoin(workflows, eq(workflows.id, aiWorkflows.workflowId))
    .where(and(eq(aiWorkflows.id, id), live(ownerId)))
    .get();
}

export async function listAiWorkflows(db: DB, ownerId: number, limit: number, beforeId?: number): Promise<(Row & { id: number })[]> {
  const rows = await db
    .select({ ai: aiWorkflows, wf: workflows })
    .from(aiWorkflows)
    .innerJoin(workflows, eq(workflows.id, aiWorkflows.workflowId))
    .where(and(live(ownerId), beforeId ? lt(aiWorkflows.id, beforeId) : undefined))
    .orderBy(desc(aiWorkflows.id))
    .limit(limit + 1)
    .all();
  return rows.map((r) => ({ ...r, id: r.ai.id }));
}

const zeroStatuses = () => Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;

export async function runCounts(db: DB, ownerId: number, workflowId: number) {
  const rows = await db
    .select({ status: runs.status, n: count() })
    .from(runs)
    .where(and(eq(runs.workflowId, workflowId), eq(runs.ownerId, ownerId)))
    .groupBy(runs.status)
    .all();
  const by_status = zeroStatuses();
  for (const r of rows) by_status[r.status] = r.n;
  return { total: rows.reduce((a, r) => a + r.n, 0), by_status };
}

/**
 * Counted from stored rows: the caller's live AI workflows and every run of their workflows
 * (however each run was started), grouped by template and by provider.
 */
export async function aiWorkflowStats(db: DB, ownerId: number) {
  const defs = await db
    .select({ template: aiWorkflows.template, provider: aiWorkflows.provider, n: count() })
    .from(aiWorkflows)
    .innerJoin(workflows, eq(workflows.id, aiWorkflows.workflowId))
    .where(live(ownerId))
    .groupBy(aiWorkflows.template, aiWorkflows.provider)
    .all();
  const runRows = await db
    .select({
      template: aiWorkflows.template,
      provider: aiWorkflows.provider,
      status: runs.status,
      n: count(),
      tin: sql<number>`coalesce(sum(${runs.tokensIn}), 0)`,
      tout: sql<number>`coalesce(sum(${runs.tokensOut}), 0)`,
    })
    .from(runs)
    .innerJoin(aiWorkflows, eq(aiWorkflows.workflowId, runs.workflowId))
    .innerJoin(workflows, eq(workflows.id, aiWorkflows.workflowId))
    .where(and(live(ownerId), eq(runs.ownerId, ownerId)))
    .groupBy(aiWorkflows.template, aiWorkflows.provider, runs.status)
    .all();

  const empty = () => ({ ai_workflows: 0, runs: 0, runs_by_status: zeroStatuses(), tokens: { in: 0, out: 0 } });
  const totals = empty();
  const byTemplate = Object.fromEntries(TEMPLATE_NAMES.map((t) => [t, empty()]));
  const byProvider: Record<string, { ai_workflows: number; runs: number }> = Object.fromEntries(
    PROVIDERS.map((p) => [p, { ai_workflows: 0, runs: 0 }]),
  );
  for (const d of defs) {
    totals.ai_workflows += d.n;
    (byTemplate[d.template] ??= empty()).ai_workflows += d.n;
    (byProvider[d.provider] ??= { ai_workflows: 0, runs: 0 }).ai_workflows += d.n;
  }
  for (const r of runRows) {
    for (const c of [totals, (byTemplate[r.template] ??= empty())]) {
      c.runs += r.n;
      c.runs_by_status[r.status] += r.n;
      c.tokens.in += Number(r.tin);
      c.tokens.out += Number(r.tout);
    }
    (byProvider[r.provider] ??= { ai_workflows: 0, runs: 0 }).runs += r.n;
  }
  return { totals, by_template: byTemplate, by_provider: byProvider };
}
