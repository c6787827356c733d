import type { RunStatus } from '../db/schema';
import type { WorkflowNode, WorkflowSettings } from './definition';

export type NodeStatus = 'pending' | 'running' | 'retry_wait' | 'waiting' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

/** What a node produced: text for templates, structured data for analyses and branches. */
export type NodeOutput = {
  text: string;
  title?: string;
  data?: Record<string, unknown>;
  documentId?: number | null;
  /** A generate node given passages to cite (`cite`): which paragraph cites which chunk (citations.ts). */
  citations?: Citation[];
};

/** Paragraph `paragraph` (from 0, blank-line separated) of a generated text cites source `[marker]`, a knowledge chunk. */
export type Citation = { paragraph: number; marker: number; chunk_id: number; source_id: number; document_id: number | null };

/** The decisions a reviewer can make at an approval node (review.ts). */
export const REVIEW_DECISIONS = ['approve', 'reject', 'edit', 'request_changes'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

/** One decision taken at an approval node, kept in the run's review log. */
export type ReviewEntry = {
  node_id: string;
  /** The node whose document was reviewed (the approval's first dependency that wrote one), if any. */
  reviewed_node: string | null;
  decision: ReviewDecision;
  comment: string | null;
  actor_user_id: number | null;
  timed_out: boolean;
  at: number;
  /** For an edit: the document version the reviewer's text became. */
  document_version: number | null;
  /** The Idempotency-Key the decision was sent with: the same key again is the same decision. */
  key?: string | null;
};

/** A loop node's progress: its iteration, the previous iteration's outputs, and what each iteration made. */
export type LoopState = {
  iteration: number;
  previous: Record<string, NodeOutput | null>;
  iterations: { iteration: number; outputs: Record<string, { preview: string; document_id: number | null } | null> }[];
};

/**
 * The state of one node of a run, or of one item of a map node (then `id` is `<map>[<index>]`,
 * see itemKey).
 */
export type NodeRecord = {
  id: string;
  status: NodeStatus;
  /** Attempts started and finished (interrupted ones, cut short by eviction, are not counted). */
  attempts: number;
  /** Every attempt started, interrupted and cancelled ones included: numbers the attempt rows. */
  startedAttempts: number;
  lastAttemptStartedAt: number | null;
  nextAttemptAt: number | null;
  /** Backoff that preceded the attempt now scheduled or running. */
  pendingDelayMs: number;
  startedAt: number | null;
  finishedAt: number | null;
  output: NodeOutput | null;
  error: string | null;
  /** Approval deadline, or the next time a subchain's child is polled. */
  waitUntil: number | null;
  childRunId: number | null;
  provider: string | null;
  model: string | null;
  tokensIn: number;
  tokensOut: number;
  /** USD its calls cost, every attempt included (0 when the price was unknown). */
  costUsd?: number;
  contextCompacted: boolean;
  /** Loop nodes only. */
  loop?: LoopState;
  /** Set when a fork took this node's outcome over from the run it was forked from (that run's id). */
  reusedFrom?: number;
  /** The version its document is at in this run (loop iterations, reviewers' edits and re-runs each add one). */
  docVersion?: number;
};

/** A finished node of the run a fork is made of, as the fork takes it over (fork.ts). */
export type ReusedNode = Pick<
  NodeRecord,
  'id' | 'status' | 'output' | 'provider' | 'model' | 'startedAt' | 'finishedAt' | 'attempts' | 'loop'
>;

/** What a run may spend (budget.ts): USD at the prices in force, tokens in and out together. */
export type Budget = { maxCostUsd?: number | undefined; maxTokens?: number | undefined };
/** What a run's model calls used. */
export type Spent = { tokensIn: number; tokensOut: number; costUsd: number };

/** A map node's item: its value (fixed when the map started) and its record. */
export type MapItem = { item: unknown; rec: NodeRecord };

/** A map item's record id: the map node's id and the item's position. */
export const itemKey = (mapId: string, index: number) => `${mapId}[${index}]`;

/** The map node and position of an item's record id; null for a node's own id. */
export function parseItemKey(id: string): { mapId: string; index: number } | null {
  const m = /^([a-z][a-z0-9_]*)\[(\d+)\]$/.exec(id);
  return m ? { mapId: m[1]!, index: Number(m[2]) } : null;
}

export type RunMeta = {
  runId: number;
  workflowId: number;
  workflowVersion: number;
  workflowName: string;
  ownerId: number;
  nodes: WorkflowNode[];
  settings: WorkflowSettings;
  input: Record<string, unknown>;
  status: RunStatus;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** When the run must end. Time spent waiting (approvals, child runs) or paused does not count. */
  deadlineAt: number;
  /** Set while the run is waiting or paused: the deadline moves on by that much when it resumes. */
  suspendedAt?: number | null;
  parent: { runId: number; nodeId: string } | null;
  depth: number;
  /** A fork's origin: the run it was forked from and the node it runs again from. */
  fork?: { runId: number; fromNode: string } | null;
  /** What the run may spend (budget.ts); absent: no limit of its own. */
  budget?: Budget | null;
  /** What its model calls used so far, every attempt included. */
  spent?: Spent;
  /** Why the run is paused, when it paused itself (a budget it would pass). */
  pauseReason?: { code: 'budget_exceeded'; message: string; limit: string } | null;
  /** Every decision taken at its approval nodes, in order (review.ts). */
  reviews?: ReviewEntry[];
};

export type RunEvent = { seq: number; type: string; at: number; node_id: string | null; data: Record<string, unknown> };

/**
 * What starting a run needs: the pinned definition and everything else the run carries; a fork
 * also brings the outcomes it takes over (fork.ts).
 */
export type RunInit = Pick<
  RunMeta,
  'runId' | 'workflowId' | 'workflowVersion' | 'workflowName' | 'ownerId' | 'nodes' | 'settings' | 'input' | 'parent' | 'depth' | 'budget'
> & { fork?: { runId: number; fromNode: string; reused: ReusedNode[] } | null };

/** How far a map node's items are. */
export type MapProgress = { total: number; succeeded: number; failed: number; running: number; pending: number };

/** A run's state as its readers see it. */
export type RunView = { meta: RunMeta; nodes: NodeRecord[]; lastSeq: number; maps?: Record<string, MapProgress> };

/** An external decision a run waits for (an approval node). */
export type RunSignal =
  | {
      type: 'approval';
      node_id: string;
      decision: ReviewDecision;
      comment?: string | undefined;
      /** For an edit: the document's new text (and optionally title). */
      content?: string | undefined;
      title?: string | undefined;
      /** A client's Idempotency-Key: a decision sent again with it is answered as taken, not taken twice. */
      key?: string | undefined;
      actor: number | null;
    }
  | { type: 'event'; name: string; payload: unknown; actor: number | null };

/** The answer to a signal: applied, or why not (a validation problem, or a conflict with the run's state). */
export type SignalResult =
  | { ok: true; stored?: boolean; replayed?: boolean }
  | { ok: false; code: 'validation_error' | 'conflict'; message: string };

/** How a child run ended, as its parent's subchain node receives it. */
export type ChildOutcome = { runId: number; status: string; output: Record<string, unknown> | null; error: string | null };

export const TERMINAL_RUN: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
export const DONE_NODE: readonly NodeStatus[] = ['succeeded', 'failed', 'skipped', 'cancelled'];

/**
 * A node failure, with whether another attempt could succeed and, when the provider said so, how
 * long to wait before it (`retryAfterMs`: its retry-after advice, the least delay of the next attempt).
 */
export class NodeError extends Error {
  override name = 'NodeError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly provider?: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function newNodeRecord(id: string): NodeRecord {
  return {
    id,
    status: 'pending',
    attempts: 0,
    startedAttempts: 0,
    lastAttemptStartedAt: null,
    nextAttemptAt: null,
    pendingDelayMs: 0,
    startedAt: null,
    finishedAt: null,
    output: null,
    error: null,
    waitUntil: null,
    childRunId: null,
    provider: null,
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    contextCompacted: false,
  };
}
