import { and, eq, sql } from 'drizzle-orm';
import { auditIfChanged, type RequestMeta } from '../lib/audit';
import { getDb, rawAll, type DB } from '../db/client';
import { runs } from '../db/schema';
import { ApiError } from '../lib/errors';
import {
  type ChildOutcome,
  NodeError,
  type RunInit,
  type RunMeta,
  runOutput,
  TERMINAL_RUN,
  type WorkflowNode,
  type WorkflowSettings,
} from '../engine';
import { runStub } from './rpc';
import { workflowForRun, workflowVersion, type WorkflowDefinition } from '../workflows';

const sameInput = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

type Launch = {
  workflow: WorkflowDefinition;
  ownerId: number;
  input: Record<string, unknown>;
  idempotencyKey?: string | undefined;
  parent?: { runId: number; nodeId: string; depth: number } | undefined;
  /** The request's, when there is one: cache bookkeeping then finishes after the response. */
  waitUntil?: ((p: Promise<unknown>) => void) | undefined;
};

/**
 * Starts a run of the workflow's current version, or returns the run an Idempotency-Key already
 * started. The D1 row comes first: its unique (owner, workflow, key) index decides, atomically,
 * whether this request starts anything. Then the run's object is started; `start` is idempotent,
 * so a repeat after a crash between the two steps completes the launch instead of duplicating it.
 */
export async function launchRun(env: Env, db: DB, meta: RequestMeta, p: Launch): Promise<{ runId: number; created: boolean }> {
  const [inserted] = await db.batch([
    rawAll<{ id: number }>(
      db,
      sql`INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, idempotency_key, parent_run_id, parent_node_id)
      VALUES (${p.workflow.id}, ${p.workflow.version}, ${p.ownerId}, 'queued', ${JSON.stringify(p.input)}, ${p.idempotencyKey ?? null},
        ${p.parent?.runId ?? null}, ${p.parent?.nodeId ?? null})
      ON CONFLICT (owner_id, workflow_id, idempotency_key) DO NOTHING RETURNING id`,
    ),
    auditIfChanged(db, meta, {
      action: 'run.start',
      targetType: 'run',
      targetId: sql`(SELECT CAST(max(id) AS TEXT) FROM runs)`,
      actorUserId: p.ownerId,
      details: { workflow_id: p.workflow.id, version: p.workflow.version, idempotency_key: p.idempotencyKey ?? null },
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
    if (!sameInput(existing.input, p.input)) {
      throw new ApiError('conflict', 'This Idempotency-Key was already used with a different input');
    }
    runId = existing.id;
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
  };
  await runStub(env, runId!).start(init);
  return { runId: runId!, created };
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
