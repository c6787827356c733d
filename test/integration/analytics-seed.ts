import { env } from 'cloudflare:test';

/*
 * A chosen event history, written straight into the tables each event type is counted from
 * (src/analytics/catalogue.ts), so that the analytics queries under test are the real ones.
 *
 * The window under test is the month ending 2026-03-01T00:00Z: 30 daily buckets from
 * 2026-01-30; the previous period is the 30 days before that.
 */
export const DAY = 86_400_000;
export const T = (s: string) => Date.parse(s);
export const MONTH_TO = '2026-03-01T00:00:00Z';
export const WIN_START = T('2026-01-30T00:00:00Z');
export const PREV_START = WIN_START - 30 * DAY;

/** run.started per day in the window: a 2,3,2,1 pattern with 22 on day 20 (2026-02-19). */
export const RUNS_PER_DAY = Array.from({ length: 30 }, (_, i) => (i === 20 ? 22 : [2, 3, 2, 1][i % 4]!));
/** Days on which the first run belongs to workflow 2: failed on days 25–28, succeeded on 29. */
const W2_DAYS = [25, 26, 27, 28, 29];

/** Extra events on single days of the window, for the user who owns the history. */
export const EXTRAS: Record<number, number> = { 0: 1, 2: 1, 3: 1, 4: 2, 5: 1, 6: 1, 7: 2, 8: 1 };

export async function seedHistory(ownerId: number) {
  const db = env.DB;
  const wf = (name: string, createdAt: number) =>
    db
      .prepare(
        `INSERT INTO workflows (owner_id, name, nodes, settings, created_at, updated_at) VALUES (?, ?, '[]', '{}', ?, ?) RETURNING id`,
      )
      .bind(ownerId, name, createdAt, createdAt)
      .first<{ id: number }>();
  const w1 = (await wf('Weekly digest', WIN_START + 8 * 3_600_000))!.id;
  const w2 = (await wf('=HYPERLINK("http://evil")', PREV_START + 8 * 3_600_000))!.id;

  const run = (workflowId: number, startedAt: number, status: 'succeeded' | 'failed', tin: number, tout: number) =>
    db
      .prepare(`INSERT INTO runs (workflow_id, workflow_version, owner_id, status, input, tokens_in, tokens_out, created_at, started_at, finished_at, updated_at)
        VALUES (?, 1, ?, ?, '{}', ?, ?, ?, ?, ?, ?)`)
      .bind(workflowId, ownerId, status, tin, tout, startedAt, startedAt, startedAt + 1000, startedAt + 1000);
  const stmts: D1PreparedStatement[] = [];
  RUNS_PER_DAY.forEach((n, day) => {
    for (let k = 0; k < n; k++) {
      const at = WIN_START + day * DAY + 10 * 3_600_000 + k * 1000;
      if (k === 0 && W2_DAYS.includes(day)) stmts.push(run(w2, at, day === 29 ? 'succeeded' : 'failed', 100, 50));
      else stmts.push(run(w1, at, 'succeeded', 10, 5));
    }
  });
  for (let day = 0; day < 30; day++) stmts.push(run(w1, PREV_START + day * DAY + 10 * 3_600_000, 'succeeded', 10, 5));
  for (let day = 0; day < 4; day++) stmts.push(run(w2, PREV_START + day * DAY + 11 * 3_600_000, 'succeeded', 100, 50));
  await db.batch(stmts);

  const at = (day: number, hour = 9) => WIN_START + day * DAY + hour * 3_600_000;
  await db.batch([
    // Node timings: workflow 2's draft node in its 5 runs of the window, workflow 1's outline in 3.
    db
      .prepare(`INSERT INTO run_nodes (run_id, node_id, type, status, attempts, started_at, finished_at, duration_ms)
      SELECT id, 'draft', 'llm', 'succeeded', 1, started_at, started_at + 900, 900 FROM runs WHERE workflow_id = ? AND started_at >= ?`)
      .bind(w2, WIN_START),
    db
      .prepare(`INSERT INTO run_nodes (run_id, node_id, type, status, attempts, started_at, finished_at, duration_ms)
      SELECT id, 'outline', 'llm', 'succeeded', 1, started_at, started_at + 120, 120 FROM runs WHERE workflow_id = ? AND started_at >= ? ORDER BY id LIMIT 3`)
      .bind(w1, WIN_START),
    // Day 2: a generated document; day 3: an edit of it (its second version).
    db
      .prepare(
        `INSERT INTO documents (owner_id, workflow_id, node_id, kind, title, content, metadata, created_at, updated_at) VALUES (?, ?, 'outline', 'node', 'Outline', 'text', '{}', ?, ?)`,
      )
      .bind(ownerId, w1, at(2), at(2)),
    db
      .prepare(
        `INSERT INTO document_versions (document_id, version, title, content, created_by, created_at) SELECT max(id), 1, 'Outline', 'text', ?, ? FROM documents`,
      )
      .bind(ownerId, at(2)),
    db
      .prepare(
        `INSERT INTO document_versions (document_id, version, title, content, created_by, created_at) SELECT max(id), 2, 'Outline', 'edited', ?, ? FROM documents`,
      )
      .bind(ownerId, at(3)),
    // Day 4: a task submitted that ended dead (task.submitted + task.failed).
    db
      .prepare(`INSERT INTO tasks (owner_id, name, task_type, priority, status, payload, max_retries, timeout_seconds, run_after, created_at, finished_at, updated_at)
      VALUES (?, 'cleanup', 'cleanup', 'normal', 'dead', '{}', 0, 60, ?, ?, ?, ?)`)
      .bind(ownerId, at(4), at(4), at(4) + 1000, at(4) + 1000),
    // Day 5: a sign-in; day 6: a failed one, and one for an unknown name (no user: admins only).
    db.prepare(`INSERT INTO audit_log (action, outcome, actor_user_id, at) VALUES ('auth.login', 'success', ?, ?)`).bind(ownerId, at(5)),
    db.prepare(`INSERT INTO audit_log (action, outcome, actor_user_id, at) VALUES ('auth.login', 'failure', ?, ?)`).bind(ownerId, at(6)),
    db.prepare(`INSERT INTO audit_log (action, outcome, actor_user_id, at) VALUES ('auth.login', 'failure', NULL, ?)`).bind(at(6)),
    // Day 7: an in-app notification and an email sent (one of each source); day 8: a custom event.
    db
      .prepare(`INSERT INTO notifications (user_id, category, title, body, created_at) VALUES (?, 'test', 'hi', 'body', ?)`)
      .bind(ownerId, at(7)),
    db
      .prepare(`INSERT INTO notification_deliveries (owner_id, batch_id, channel, config_name, recipient, subject, body, priority, send_at, status, created_at, finished_at)
      VALUES (?, 'b1', 'email', 'default', 'x@example.com', 's', 'b', 'normal', ?, 'sent', ?, ?)`)
      .bind(ownerId, at(7), at(7), at(7) + 500),
    db
      .prepare(`INSERT INTO analytics_events (type, user_id, at, dedupe_key) VALUES ('custom.report.downloaded', ?, ?, ?)`)
      .bind(ownerId, at(8), `seed:${ownerId}`),
  ]);
  return { w1, w2 };
}

/** The seeded owner's expected total per day: each run starts and ends that day, plus the extras. */
export const TOTAL_PER_DAY = RUNS_PER_DAY.map((n, day) => 2 * n + (EXTRAS[day] ?? 0));
