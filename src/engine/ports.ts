import type { DomainEvent } from '../lib/events';
import type { ChildOutcome, RunMeta } from './types';

/*
 * What the engine needs from the rest of the system, passed in by whoever hosts it (the
 * WorkflowRun object, through src/runs/ports.ts). The engine imports no feature: it knows
 * providers, rooms, queues and other runs only as these functions, so it can be read, tested and
 * changed without them.
 */

/** A message of a model call, in the chat shape every provider accepts. */
export type ModelMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/** One call to a language model on behalf of a node. */
export type ModelCall = {
  /** What the call is for; a provider that is not a language model (the offline one) chooses its algorithm by it. */
  task: 'generate' | 'summarize' | 'title';
  messages: ModelMessage[];
  provider?: string | undefined;
  model?: string | undefined;
  maxTokens: number;
  temperature?: number | undefined;
  stream: boolean;
  /** Ask for JSON matching this schema (a generate node's output_schema), in the provider's native structured-output mode. */
  output?: { name: string; schema: Record<string, unknown> } | undefined;
};

export type ModelAnswer = {
  text: string;
  provider: string;
  model: string;
  tokensIn: number;
  tokensOut: number;
  /** What the call cost at the price in force; null when the model's price is unknown (0 when served from the cache). */
  costUsd: number | null;
  /** With `output`: the answer parsed as JSON, or why it is not JSON (exactly one of them). */
  json?: unknown;
  jsonError?: string;
};

/**
 * What executing one node attempt needs. `generate` throws a NodeError (retryable or not) when
 * the provider fails, so the engine decides retries without knowing providers' error classes.
 */
export type ExecDeps = {
  generate: (call: ModelCall, options: { signal: AbortSignal; onToken?: (t: string) => void }) => Promise<ModelAnswer>;
  /** The model's context window in tokens, for prompt budgets. */
  contextWindow: (provider: string | undefined, model: string | undefined) => number;
  /** An extractive summary (used to shrink upstream documents that do not fit a prompt). */
  summarize: (text: string, maxWords: number) => string;
  /** Text analyses by name (sentiment, keywords, readability …). */
  analyze: (text: string, analyses: string[]) => Record<string, unknown>;
  /**
   * Passages of one of the run owner's knowledge bases that best answer the query, best first.
   * Throws a NodeError: not retryable for a base the owner does not have.
   */
  retrieve: (q: { knowledgeBaseId: number; query: string; topK: number; minScore?: number | undefined }) => Promise<{
    passages: RetrievedPassage[];
  }>;
  signal: AbortSignal;
  onToken: (text: string) => void;
};

/** A knowledge chunk a retrieve node found; `score` is its cosine similarity to the query. */
export type RetrievedPassage = {
  chunk_id: number;
  source_id: number;
  document_id: number | null;
  title: string | null;
  text: string;
  score: number;
};

/** Subchain nodes run another workflow as a child run; these reach the child runs. */
export type ChildRuns = {
  /** Starts the child run (idempotent for the same parent, node and attempt) and returns its id. */
  launch(parent: RunMeta, nodeId: string, attempt: number, workflowId: number, input: Record<string, unknown>): Promise<number>;
  /** The child's outcome once it has one, else null. */
  poll(childRunId: number): Promise<ChildOutcome | null>;
  cancel(childRunId: number, reason: string): Promise<void>;
  /** Tells a parent run that this run, its child, ended (the parent also polls: a lost call is not fatal). */
  notifyParent(parent: { runId: number; nodeId: string }, outcome: ChildOutcome): Promise<void>;
};

/** Names the attempt a node's model calls belong to (the run's trace is derived from it). */
export type ExecTrace = { runId: number; workflowId: number; createdAt: number; nodeId: string; attempt: number };

export type EnginePorts = {
  /** D1, where the run's projection is written (runs, run_nodes, node_attempts, documents). */
  d1: D1Database;
  logLevel: string | undefined;
  /** Binds node execution to the deployment's providers and text algorithms, once per attempt. */
  execution(o: {
    signal: AbortSignal;
    onToken: (t: string) => void;
    fallback: readonly string[] | undefined;
    /** The run's owner: retrieval reads only their knowledge bases. */
    ownerId: number;
    /** Which attempt the calls are for: outbound calls carry it as their trace context. */
    trace?: ExecTrace;
  }): ExecDeps;
  /** Publishes run events to the workflow's room for WebSocket subscribers; a repeated `source` is ignored there. */
  publish(workflowId: number, items: { source: string; payload: Record<string, unknown> }[]): Promise<void>;
  /** Hands domain events from the run's outbox to the events queue; throws if they were not accepted. */
  sendEvents(events: DomainEvent[]): Promise<void>;
  children: ChildRuns;
  costs: Costs;
  effects: Effects;
};

/** A notify or task node's effect, its templates rendered (effects.ts). */
export type Effect =
  | {
      kind: 'notify';
      channel: string;
      recipient: string;
      subject: string | undefined;
      message: string | undefined;
      templateId: number | undefined;
      variables: Record<string, string> | undefined;
    }
  | { kind: 'task'; taskType: string; payload: Record<string, unknown>; wait: boolean };

/** Where an effect stands: `pending` (a task still running), `done`, or `failed` (for good: refused or failed). */
export type EffectOutcome =
  | { status: 'pending'; data: Record<string, unknown> }
  | { status: 'done'; text: string; data: Record<string, unknown> }
  | { status: 'failed'; text: string; data: Record<string, unknown>; error: string };

/** Effects outside the run, for notify and task nodes. */
export type Effects = {
  /**
   * Does the effect once per key, on behalf of the run's owner, and reports where it stands;
   * asking again with the same key only reports. Throws when it cannot tell (the caller asks again).
   */
  perform(ownerId: number, key: string, effect: Effect): Promise<EffectOutcome>;
};

/** Prices and the owner's monthly budget, for the run's budgets (budget.ts). */
export type Costs = {
  /**
   * The most a call could take: its prompt and max output tokens, and their cost at the priciest
   * of the providers it may go to (`unpriced` names a model whose price is unknown; costUsd is then null).
   */
  quote(
    call: ModelCall,
    fallback: readonly string[] | undefined,
  ): Promise<{ tokens: number; costUsd: number | null; unpriced: string | null }>;
  /** The owner's monthly limit and what their other runs spent this month; null when they have none. */
  monthly(ownerId: number, runId: number): Promise<{ limitUsd: number; spentUsd: number } | null>;
};
