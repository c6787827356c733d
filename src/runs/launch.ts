import { and, eq, lt, sql } from 'drizzle-orm';
import { auditIfChanged, type RequestMeta } from '../lib/audit';
import { getDb, rawAll, type DB } from '../db/client';
import { runs } from '../db/schema';
import { ApiError } from '../lib/errors';
import {
  type ChildOutcome,
  NodeError,
  prepareInput,
  type ReusedNode,
  type RunInit,
  type RunMeta,
  runOutput,
  TERMINAL_RUN,
  type WorkflowNode,
  type WorkflowSettings,
} from '../engine';
import { type ForkOverrides, planFork } from './fork';
import { runStub } from './rpc';
import { workflowForRun, workflowVersion, type WorkflowDefinition } from '../workflows';

const sameInput = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

type Launch = {
  workflow: WorkflowDefinition;
  ownerId: number;
  input: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  parent?: { runId: number; nodeId: string; depth: number } | undefined;
  /** A fork: the run it is forked from, the node it runs again from, its overrides (already applied to `workflow.nodes`) and the outcomes it takes over. */
  fork?: { runId: number; fromNode: string; overrides: ForkOverrides; reused: ReusedNode[] } | undefined;
  /** The run request's budget; each limit it gives replaces the workflow settings' one. */
  budget?: { max_cost_usd?: number | undefined; max_tokens?: number | undefined } | undefined;
  /** The request's, when there is one: cache bookkeeping then finishes after the response. */
  waitUntil?: ((p: Promise<unknown>) => void) | undefined;
};

/**
 * The run input as the run will see it: the definition's declared defaults filled in. An input
 * that lacks keys the templates read is refused (400 naming them) before anything is written.
 */
function runInput(p: Launch): Record<string, unknown> {
  return checkedInput(p.workflow.nodes as WorkflowNode[], p.workflow.settings as WorkflowSettings, p.input);
}

/** The input with the definition's defaults filled in; 400 naming the keys the templates read that it lacks. */
export function checkedInput(nodes: WorkflowNode[], settings: WorkflowSettings, given: Record<string, unknown>): Record<string, unknown> {
  const { input, missing } = prepareInput(nodes, settings, given);
  if (missing.length) {
    throw new ApiError(
      'validation_error',
      `The run input lacks ${missing.map((k) => `"${k}"`).join(', ')}, which the workflow's templates read`,
      {
        details: missing.map((k) => ({
          path: ['input', k],
          code: 'missing_input',
          message: `read by the workflow as {{input.${k}}}; give it, or declare a default in settings.inputs`,
        })),
      },
    );
  }
  return input;
}

/**
 * Starts a run of the workflow's current version, or returns the run an Idempotency-Key already
 * started. The D1 row comes first: its unique (owner, workflow, key) index decides, atomically,
 * whether this request starts anything. Then the run's object is started; `start` is idempotent,
 * so a repeat after a crash between the two steps completes the launch instead of duplicating it.
 * If the object cannot be started, the row is marked failed with the reason (the object, should
 * it have started after all, overwrites that with its own state), and the minute cron re-drives
 * rows left `queued` by a crash between the two steps (sweepStuckRuns).
 */
export async function launchRun(env: Env, db: DB, meta: RequestMeta, launch: Launch): Promise<{ runId: number; created: boolean }> {
  const p = { ...launch, input: runInput(launch) };
  const budget = budgetOf(p.workflow.settings as WorkflowSettings, p.budget);
  const [inserted] = await db.batch([
    rawAll<{ id: number }>(
      db,
      sql`INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, idempotency_key, parent_run_id, parent_node_id,
        forked_from_run_id, forked_from_node, fork_overrides, budget)
      VALUES (${p.workflow.id}, ${p.workflow.version}, ${p.ownerId}, 'queued', ${JSON.stringify(p.input)}, ${p.idempotencyKey ?? null},
        ${p.parent?.runId ?? null}, ${p.parent?.nodeId ?? null},
        ${p.fork?.runId ?? null}, ${p.fork?.fromNode ?? null}, ${p.fork ? JSON.stringify(p.fork.overrides) : null},
        ${budget ? JSON.stringify(budget) : null})
      ON CONFLICT (owner_id, workflow_id, idempotency_key) DO NOTHING RETURNING id`,
    ),
    auditIfChanged(db, meta, {
      action: 'run.start',
      targetType: 'run',
      targetId: sql`(SELECT CAST(max(id) AS TEXT) FROM runs)`,
      actorUserId: p.ownerId,
      details: {
        workflow_id: p.workflow.id,
        version: p.workflow.version,
        idempotency_key: p.idempotencyKey ?? null,
        ...(p.fork ? { forked_from: { run_id: p.fork.runId, node_id: p.fork.fromNode } } : {}),
      },
    }),
  ]);
  let runId = inserted[0]?.id;
  let version = { version: p.workflow.version, nodes: p.workflow.nodes, settings: p.workflow.settings, name: p.workflow.name };
  const created = runId !== undefined;
  if (!created) {
    const existing = await db
      .select()
      .from(runs)
      .where(and(eq(runs.ownerId, p.ownerId), eq(runs.workflowId, p.workflow.id), eq(runs.idempotencyKey, p.idempotencyKey!)))
      .get();
    if (!existing) throw new Error('idempotent run vanished');
    if (!sameInput(existing.input, p.input) || !sameFork(existing, p.fork)) {
      throw new ApiError('conflict', 'This Idempotency-Key was already used with a different input');
    }
    runId = existing.id;
    // A fork's repeat runs what the first request planned (same origin, node and overrides).
    if (!p.fork)
      version = {
        version: existing.workflowVersion,
        ...(await workflowVersion({ env, waitUntil: p.waitUntil }, db, p.workflow.id, existing.workflowVersion)),
      };
  }
  const init: RunInit = {
    runId: runId!,
    workflowId: p.workflow.id,
    workflowVersion: version.version,
    workflowName: version.name,
    ownerId: p.ownerId,
    nodes: version.nodes as WorkflowNode[],
    settings: version.settings as WorkflowSettings,
    input: p.input,
    parent: p.parent ? { runId: p.parent.runId, nodeId: p.parent.nodeId } : null,
    depth: p.parent?.depth ?? 0,
    fork: p.fork ? { runId: p.fork.runId, fromNode: p.fork.fromNode, reused: p.fork.reused } : null,
    budget: budget && { maxCostUsd: budget.max_cost_usd, maxTokens: budget.max_tokens },
  };
  try {
    await runStub(env, runId!).start(init);
  } catch (err) {
    await markNotStarted(db, runId!, err);
    throw new ApiError('service_unavailable', `The run could not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { runId: runId!, created };
}

/** A run's budget: each limit of the request's, else of the workflow settings'; null when there is none. */
function budgetOf(settings: WorkflowSettings, request: Launch['budget']): { max_cost_usd?: number; max_tokens?: number } | null {
  const max_cost_usd = request?.max_cost_usd ?? settings.max_cost_usd;
  const max_tokens = request?.max_tokens ?? settings.max_tokens;
  if (max_cost_usd === undefined && max_tokens === undefined) return null;
  return { ...(max_cost_usd !== undefined ? { max_cost_usd } : {}), ...(max_tokens !== undefined ? { max_tokens } : {}) };
}

const sameFork = (row: typeof runs.$inferSelect, fork: Launch['fork']) =>
  (row.forkedFromRunId ?? null) === (fork?.runId ?? null) &&
  (row.forkedFromNode ?? null) === (fork?.fromNode ?? null) &&
  sameInput(row.forkOverrides ?? null, fork?.overrides ?? null);

/** A run row whose object never took it: failed, with why (the object's own projection wins if it did start). */
async function markNotStarted(db: DB, runId: number, err: unknown): Promise<void> {
  const now = Date.now();
  await db
    .update(runs)
    .set({
      status: 'failed',
      error: `the run could not start: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000),
      finishedAt: now,
      updatedAt: now,
    })
    .where(and(eq(runs.id, runId), eq(runs.status, 'queued')));
}

/** How many parent runs a run has (for the subchain nesting limit), counted up its parent_run_id chain. */
async function nestingDepth(db: DB, parentRunId: number | null): Promise<number> {
  let depth = 0;
  for (let id = parentRunId; id !== null && depth < 10; depth++) {
    id = (await db.select({ parent: runs.parentRunId }).from(runs).where(eq(runs.id, id)).get())?.parent ?? null;
  }
  return depth;
}

/** Runs left `queued` longer than this were not taken by their object (a crash between the two steps of launchRun). */
const STUCK_AFTER_MS = 2 * 60_000;

/**
 * The minute cron's repair of runs whose object never started: each is started again from its
 * row (same version, same input; `start` is idempotent), or marked failed when that fails too.
 * A run whose object did start is left to it: its projection brings the row up to date.
 */
export async function sweepStuckRuns(env: Env, now = Date.now()): Promise<{ restarted: number; failed: number }> {
  const db = getDb(env.DB);
  const stuck = await db
    .select()
    .from(runs)
    .where(and(eq(runs.status, 'queued'), lt(runs.createdAt, now - STUCK_AFTER_MS)))
    .limit(50)
    .all();
  let restarted = 0;
  let failed = 0;
  for (const row of stuck) {
    const stub = runStub(env, row.id);
    try {
      if (await stub.started()) continue;
      const v = await workflowVersion({ env }, db, row.workflowId, row.workflowVersion);
      const fork =
        row.forkedFromRunId !== null && row.forkedFromNode !== null
          ? await planFork(env, {
              nodes: v.nodes as WorkflowNode[],
              fromNode: row.forkedFromNode,
              overrides: row.forkOverrides ?? {},
              originRunId: row.forkedFromRunId,
            })
          : null;
      await stub.start({
        runId: row.id,
        workflowId: row.workflowId,
        workflowVersion: row.workflowVersion,
        workflowName: v.name,
        ownerId: row.ownerId,
        nodes: fork?.nodes ?? (v.nodes as WorkflowNode[]),
        fork: fork ? { runId: row.forkedFromRunId!, fromNode: row.forkedFromNode!, reused: fork.reused } : null,
        budget: row.budget && { maxCostUsd: row.budget.max_cost_usd, maxTokens: row.budget.max_tokens },
        settings: v.settings as WorkflowSettings,
        input: row.input as Record<string, unknown>,
        parent: row.parentRunId !== null && row.parentNodeId !== null ? { runId: row.parentRunId, nodeId: row.parentNodeId } : null,
        depth: await nestingDepth(db, row.parentRunId),
      });
      restarted++;
    } catch (err) {
      await markNotStarted(db, row.id, err);
      failed++;
    }
  }
  return { restarted, failed };
}

/** Starts a subchain's child run; the idempotency key makes a repeated launch find the same child. */
export async function launchChildRun(
  env: Env,
  parent: RunMeta,
  nodeId: string,
  attempt: number,
  workflowId: number,
  input: Record<string, unknown>,
): Promise<number> {
  const db = getDb(env.DB);
  const workflow = await workflowForRun({ env }, db, parent.ownerId, workflowId);
  if (!workflow) throw new NodeError(`subchain workflow ${workflowId} no longer exists`, false);
  const meta: RequestMeta = {
    requestId: `run:${parent.runId}`,
    ip: null,
    userAgent: null,
    actorUserId: parent.ownerId,
    actorApiKeyId: null,
  };
  const { runId } = await launchRun(env, db, meta, {
    workflow,
    ownerId: parent.ownerId,
    input,
    idempotencyKey: `subchain:${parent.runId}:${nodeId}:${attempt}`,
    parent: { runId: parent.runId, nodeId, depth: parent.depth + 1 },
  });
  return runId;
}

/** A child run's outcome once it has one, else null. */
export async function pollChild(env: Env, childRunId: number): Promise<ChildOutcome | null> {
  const view = await runStub(env, childRunId).view();
  if (!TERMINAL_RUN.includes(view.meta.status)) return null;
  const nodes = new Map(view.nodes.map((n) => [n.id, n]));
  return {
    runId: childRunId,
    status: view.meta.status,
    output: view.meta.status === 'succeeded' ? runOutput(view.meta, nodes) : null,
    error: view.meta.error,
  };
}

export async function ownedRun(db: DB, ownerId: number, workflowId: number, runId: number) {
  const row = await db
    .select()
    .from(runs)
    .where(and(eq(runs.id, runId), eq(runs.workflowId, workflowId), eq(runs.ownerId, ownerId)))
    .get();
  if (!row) throw new ApiError('not_found', 'Run not found');
  return row;
}
