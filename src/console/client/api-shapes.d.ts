/**
 * The API's answers as the console reads them: only the fields it uses, typed as openapi.json
 * documents them (the zod schemas in src/<feature>/schemas.ts). Nothing checks them at run time:
 * the console is a client of its own origin's API, and the browser tests (test/browser) drive
 * every view against the real Worker. A declaration file, so the build emits nothing for it.
 */

/** A cursor-paginated list (src/lib/pagination.ts). */
export type Page<T> = { items: T[]; next_cursor: string | null };

export type User = { id: number; username: string; role: string };

/** POST /api/v3/auth/login and /refresh: the session the console keeps in sessionStorage. */
export type TokenResponse = { access_token: string; refresh_token: string; user: User };

/** A node of a workflow definition; the fields besides these depend on its type. */
export type NodeDefinition = {
  id: string;
  type: string;
  depends_on?: string[];
  message?: string;
  prompt?: string;
  [field: string]: unknown;
};

/** A body for POST /api/v3/workflows. */
export type WorkflowDefinition = { name: string; description?: string; nodes: NodeDefinition[]; settings?: { concurrency?: number } };

export type Workflow = {
  id: number;
  name: string;
  description: string | null;
  version: number;
  nodes: NodeDefinition[];
  updated_at: string;
};

export type WorkflowSummary = Omit<Workflow, 'nodes'> & { node_count: number };

export type RunNode = {
  id: string;
  type: string;
  status: string;
  attempts: number;
  error: string | null;
  output: { text: string; title: string | null; data: Record<string, unknown> | null; document_id: number | null } | null;
  provider: string | null;
  model: string | null;
  tokens_in: number;
  tokens_out: number;
  context_compacted: boolean;
  child_run_id: number | null;
  waiting_until: string | null;
  /** On a fork: the run this node's outcome was taken over from. */
  reused_from_run_id: number | null;
};

/** A run view (GET, POST and the controls answer one); last_event_seq is the state it reflects. */
export type Run = {
  id: number;
  workflow_id: number;
  workflow_version: number;
  status: string;
  error: string | null;
  created_at: string;
  last_event_seq: number;
  nodes: RunNode[];
  forked_from: { run_id: number; node_id: string } | null;
  forks: number[];
};

export type RunSummary = {
  id: number;
  status: string;
  tokens_in: number;
  tokens_out: number;
  retries: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
};

/** The fields an event's data may carry; which of them it has depends on the event's type. */
export type EventData = {
  status?: string;
  error?: string;
  workflow_version?: number;
  attempt?: number;
  attempts?: number;
  delay_ms?: number;
  reason?: string;
  message?: string;
  until?: string;
  child_run_id?: number;
  timed_out?: boolean;
  actor_user_id?: number;
  comment?: string;
  reviewed_node?: string;
  version?: number;
  title?: string;
  provider?: string;
  model?: string;
  tokens_in?: number;
  tokens_out?: number;
  text?: string;
  preview?: string;
  document_id?: number;
};

/** One entry of a run's event log, numbered by the run's Durable Object. */
export type RunEvent = { seq: number; type: string; at: number; node_id: string | null; data: EventData };

export type DocumentSummary = {
  id: number;
  title: string;
  kind: string;
  version: number;
  workflow_id: number | null;
  run_id: number | null;
  node_id: string | null;
  parent_id: number | null;
  excerpt: string;
  created_at: string;
  updated_at: string;
};

/** Where a document's text came from (src/documents/views.ts). */
export type Provenance = {
  origin: string;
  provider: string | null;
  model: string | null;
  language_model: boolean;
  edited: boolean;
  citations: { paragraph: number; marker: number; chunk_id: number; source_id: number }[];
  reviews: {
    node_id: string;
    decision: string;
    comment: string | null;
    actor_user_id: number | null;
    timed_out: boolean;
    at: string;
    document_version: number | null;
  }[];
};

export type Document = Omit<DocumentSummary, 'excerpt'> & { content: string; provenance: Provenance };

/** GET /api/v3/documents/{id}/citations */
export type DocumentCitations = {
  items: {
    paragraph: number;
    marker: number;
    chunk_id: number;
    chunk: { text: string; title: string | null; knowledge_base_id: number } | null;
  }[];
};

export type DocumentVersion = { version: number; title: string; content: string; created_by: number | null; created_at: string };

export type Percentiles = { p50: number | null; p95: number | null };

/** GET /api/v3/workflows/{id}/analytics */
export type WorkflowAnalytics = {
  window_days: number;
  runs: { total: number; by_status: Record<string, number> };
  success_rate: number | null;
  run_duration_ms: Percentiles;
  node_duration_ms: Record<string, Percentiles & { count: number }>;
  tokens: { in: number; out: number };
  retries: number;
  runs_per_day: { day: string; runs: number; succeeded: number; failed: number }[];
};

/** The window every /api/v3/analytics answer describes. */
type AnalyticsWindow = { scope: 'mine' | 'all'; from: string; to: string; bucket: string; buckets: number };

export type Trend = { count: number; previous: number; change: number; change_pct: number | null };
export type Point = { start: string; count: number };

export type AnalyticsSummary = AnalyticsWindow & { totals: Trend; by_type: Record<string, Trend> };
export type AnalyticsSeries = AnalyticsWindow & { total: Point[] };

export type WorkflowRef = { workflow_id: number; name: string | null };
export type AnalyticsTop = AnalyticsWindow & {
  most_active_users: { user_id: number; username: string | null; events: number }[];
  most_run_workflows: (WorkflowRef & { runs_started: number })[];
  most_failing_workflows: (WorkflowRef & { runs_failed: number; runs_completed: number })[];
};

/** An insight's figures besides kind and message differ by kind. */
export type Insight = { kind: string; message: string; [field: string]: unknown };
export type AnalyticsInsights = AnalyticsWindow & {
  anomalies: Insight[];
  failure_spikes: Insight[];
  slowest_nodes: Insight[];
  expensive_workflows: Insight[];
};
