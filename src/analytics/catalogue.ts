import { sql, type SQL } from 'drizzle-orm';

/*
 * Every event type has exactly one source, so nothing is counted twice. Most are read from the
 * rows that already record the fact, each written in the same D1 batch as the change (audit
 * rows) or idempotently by its owner (a run's projection, a task's compare-and-set, the
 * schedule fire ledger's unique key), so a redelivered message or a retried batch cannot add a
 * second event. Only facts no table keeps are stored in `analytics_events`, with a unique
 * `dedupe_key`.
 */
export const EVENT_TYPES = {
  'workflow.created': 'workflows.created_at (soft-deleted workflows still count)',
  'run.started': 'runs.started_at (the run projection)',
  'run.completed': "runs.finished_at where status = 'succeeded'",
  'run.failed': "runs.finished_at where status = 'failed'",
  'document.generated': "documents.created_at where kind is 'node' or 'continuation'",
  'document.edited': 'document_versions after the first (written only when the edit applied)',
  'login.succeeded': "audit_log action 'auth.login', outcome success (a session started)",
  'login.failed': "audit_log action 'auth.login', outcome failure (user null for unknown names)",
  'task.submitted': 'tasks.created_at',
  'task.completed': "tasks.finished_at where status = 'succeeded'",
  'task.failed': "tasks.finished_at where status is 'failed', 'timed_out' or 'dead'",
  'schedule.fired': 'schedule_fires.fired_at (the fire ledger)',
  'notification.sent':
    "notifications.created_at (the in-app inbox, for its recipient) and notification_deliveries.finished_at where status = 'sent' on any other channel (for its sender)",
  'api_key.used': 'analytics_events, tracked when a key authenticates: at most one per key per minute',
  'custom.*': 'analytics_events, posted by clients to POST /api/v3/analytics/events',
} as const;

export const BUILT_IN_TYPES = Object.keys(EVENT_TYPES).filter((t) => !t.endsWith('*'));

/** Which events a query may see: everybody's (admins), or one user's. */
export type Scope = { userId: number | null };

/*
 * D1 caps a compound SELECT at 5 terms (SQLITE_LIMIT_COMPOUND_SELECT; "too many terms in
 * compound SELECT" past it), so the branches are combined in groups of at most 5, each group a
 * subquery, which SQLite counts as one term of the outer compound.
 */
const MAX_COMPOUND = 5;
function unionAll(branches: SQL[]): SQL {
  if (branches.length <= MAX_COMPOUND) return sql.join(branches, sql` UNION ALL `);
  const groups: SQL[] = [];
  for (let i = 0; i < branches.length; i += MAX_COMPOUND)
    groups.push(sql`SELECT * FROM (${sql.join(branches.slice(i, i + MAX_COMPOUND), sql` UNION ALL `)})`);
  return unionAll(groups);
}

/**
 * All events with `at` in [lo, hi) as rows (type, at, user_id, workflow_id): one branch per
 * source, each bounded on its own time column and scoped on its own user column, so that each
 * branch reads only its window (through an index where the table has one on that column).
 */
export function eventsSql(scope: Scope, lo: number, hi: number): SQL {
  const mine = (col: SQL) => (scope.userId === null ? sql`1 = 1` : sql`${col} = ${scope.userId}`);
  const within = (col: SQL) => sql`${col} >= ${lo} AND ${col} < ${hi}`;
  return unionAll([
    sql`SELECT 'workflow.created' AS type, created_at AS at, owner_id AS user_id, id AS workflow_id
      FROM workflows WHERE ${within(sql`created_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT 'run.started' AS type, started_at AS at, owner_id AS user_id, workflow_id
      FROM runs WHERE ${within(sql`started_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT CASE status WHEN 'succeeded' THEN 'run.completed' ELSE 'run.failed' END AS type, finished_at AS at, owner_id AS user_id, workflow_id
      FROM runs WHERE status IN ('succeeded', 'failed') AND ${within(sql`finished_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT 'document.generated' AS type, created_at AS at, owner_id AS user_id, workflow_id
      FROM documents WHERE kind IN ('node', 'continuation') AND ${within(sql`created_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT 'document.edited' AS type, v.created_at AS at, coalesce(v.created_by, d.owner_id) AS user_id, d.workflow_id AS workflow_id
      FROM document_versions v JOIN documents d ON d.id = v.document_id
      WHERE v.version > 1 AND ${within(sql`v.created_at`)} AND ${mine(sql`coalesce(v.created_by, d.owner_id)`)}`,
    sql`SELECT CASE outcome WHEN 'success' THEN 'login.succeeded' ELSE 'login.failed' END AS type, at, actor_user_id AS user_id, NULL AS workflow_id
      FROM audit_log WHERE action = 'auth.login' AND ${within(sql`at`)} AND ${mine(sql`actor_user_id`)}`,
    sql`SELECT 'task.submitted' AS type, created_at AS at, owner_id AS user_id, NULL AS workflow_id
      FROM tasks WHERE ${within(sql`created_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT CASE status WHEN 'succeeded' THEN 'task.completed' ELSE 'task.failed' END AS type, finished_at AS at, owner_id AS user_id, NULL AS workflow_id
      FROM tasks WHERE status IN ('succeeded', 'failed', 'timed_out', 'dead') AND ${within(sql`finished_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT 'schedule.fired' AS type, fired_at AS at, owner_id AS user_id, NULL AS workflow_id
      FROM schedule_fires WHERE ${within(sql`fired_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT 'notification.sent' AS type, created_at AS at, user_id, NULL AS workflow_id
      FROM notifications WHERE ${within(sql`created_at`)} AND ${mine(sql`user_id`)}`,
    // In-app deliveries are counted by their inbox row above, so they are left out here.
    sql`SELECT 'notification.sent' AS type, finished_at AS at, owner_id AS user_id, NULL AS workflow_id
      FROM notification_deliveries WHERE channel <> 'in_app' AND status = 'sent' AND ${within(sql`finished_at`)} AND ${mine(sql`owner_id`)}`,
    sql`SELECT type, at, user_id, workflow_id
      FROM analytics_events WHERE ${within(sql`at`)} AND ${mine(sql`user_id`)}`,
  ]);
}
