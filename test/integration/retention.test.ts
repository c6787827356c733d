import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { RETENTION_MINUTE, retentionCron } from '../../src/security/cron';
import { purgeExpired, purgeRunStorage, RETENTION } from '../../src/security/retention';
import { count, createWorkflow, registerAndLogin, simpleNodes, startRun, unique, waitForRun } from '../helpers';

/*
 * Issue 17, finding 10: nothing purged refresh_tokens, sessions, login_challenges,
 * password_reset_tokens, security_events, analytics_events, deliveries or executions. Each table
 * gets rows past its retention and rows within it; one pass removes exactly the former.
 */
const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 7, 12, RETENTION_MINUTE);
const run = (query: string, ...values: unknown[]) =>
  env.DB.prepare(query)
    .bind(...values)
    .run();

async function seed(userId: number) {
  const tag = unique('r');
  const old = now - 500 * DAY;
  // Sessions: an expired one (with a refresh token, which goes with it), one revoked 40 days ago, a live one.
  for (const [id, expires, revoked] of [
    [`${tag}-expired`, now - DAY, null],
    [`${tag}-revoked`, now + 10 * DAY, now - 40 * DAY],
    [`${tag}-live`, now + 10 * DAY, null],
  ] as const) {
    await run(
      'INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?)',
      id,
      userId,
      old,
      expires,
      revoked,
    );
  }
  await run(
    'INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
    `${tag}-live`,
    `${tag}-rt-old`,
    old,
    now - DAY,
  );
  await run(
    'INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
    `${tag}-live`,
    `${tag}-rt-new`,
    old,
    now + DAY,
  );
  await run(
    'INSERT INTO refresh_tokens (session_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
    `${tag}-expired`,
    `${tag}-rt-cascade`,
    old,
    now + DAY,
  );
  for (const table of ['login_challenges', 'password_reset_tokens', 'socket_tickets']) {
    await run(`INSERT INTO ${table} (token_hash, user_id, expires_at) VALUES (?, ?, ?)`, `${tag}-${table}-old`, userId, now - 2 * DAY);
    await run(`INSERT INTO ${table} (token_hash, user_id, expires_at) VALUES (?, ?, ?)`, `${tag}-${table}-new`, userId, now - 60_000);
  }
  for (const [suffix, expires] of [
    ['old', now - 2 * DAY],
    ['new', now - 60_000],
  ] as const) {
    await run(
      'INSERT INTO email_verifications (token_hash, user_id, email, expires_at) VALUES (?, ?, ?, ?)',
      `${tag}-ev-${suffix}`,
      userId,
      'a@example.com',
      expires,
    );
  }
  for (const [suffix, at] of [
    ['old', now - 181 * DAY],
    ['new', now - 179 * DAY],
  ] as const) {
    await run(
      "INSERT INTO security_events (at, type, severity, dedupe_key) VALUES (?, 'login_failed', 'low', ?)",
      at,
      `${tag}-se-${suffix}`,
    );
  }
  for (const [suffix, at] of [
    ['old', now - 401 * DAY],
    ['new', now - 399 * DAY],
  ] as const) {
    await run(
      "INSERT INTO analytics_events (type, user_id, at, dedupe_key) VALUES ('run.started', ?, ?, ?)",
      userId,
      at,
      `${tag}-ae-${suffix}`,
    );
  }
  // Deliveries and executions: old and finished goes; old but unfinished, and recent, stay.
  const delivery = (created: number, finished: number | null) =>
    run(
      `INSERT INTO notification_deliveries (owner_id, batch_id, channel, config_name, recipient, subject, body, priority, send_at, status, created_at, finished_at)
       VALUES (?, ?, 'in_app', 'default', 'x', 's', 'b', 'normal', ?, 'sent', ?, ?) RETURNING id`,
      userId,
      tag,
      created,
      created,
      finished,
    );
  for (const [created, finished] of [
    [now - 91 * DAY, now - 91 * DAY],
    [now - 91 * DAY, null],
    [now - 89 * DAY, now - 89 * DAY],
  ] as const) {
    await delivery(created, finished);
  }
  const first = await env.DB.prepare('SELECT min(id) AS id FROM notification_deliveries WHERE batch_id = ?')
    .bind(tag)
    .first<{ id: number }>();
  await run("INSERT INTO notification_attempts (delivery_id, attempt, status, at) VALUES (?, 1, 'sent', ?)", first!.id, now - 91 * DAY);
  const automation = await env.DB.prepare(
    "INSERT INTO automations (owner_id, name, trigger_type, trigger, actions) VALUES (?, 'a', 'api', '{}', '[]') RETURNING id",
  )
    .bind(userId)
    .first<{ id: number }>();
  for (const [i, created, finished] of [
    [1, now - 91 * DAY, now - 91 * DAY],
    [2, now - 91 * DAY, null],
    [3, now - 89 * DAY, now - 89 * DAY],
  ] as const) {
    await run(
      "INSERT INTO automation_executions (automation_id, owner_id, event_id, status, trigger_data, context, created_at, finished_at) VALUES (?, ?, ?, 'succeeded', '{}', '{}', ?, ?)",
      automation!.id,
      userId,
      `${tag}-${i}`,
      created,
      finished,
    );
  }
  return tag;
}

describe('retention', () => {
  it('covers every growing table the audit named', () => {
    expect(RETENTION.map((r) => r.table)).toEqual(
      expect.arrayContaining([
        'refresh_tokens',
        'sessions',
        'login_challenges',
        'password_reset_tokens',
        'security_events',
        'analytics_events',
        'notification_deliveries',
        'automation_executions',
      ]),
    );
  });

  it('deletes exactly the rows past their retention, with their child rows', async () => {
    const { user } = await registerAndLogin(unique('keep'));
    const tag = await seed(user.id);
    const ids = async (query: string) => (await env.DB.prepare(query).bind(`${tag}%`).all<{ k: string }>()).results.map((r) => r.k).sort();
    const deleted = await purgeExpired(env, now);
    // D1 counts the rows an ON DELETE CASCADE removed with them: a session's refresh token, a delivery's attempt.
    expect(deleted).toMatchObject({
      sessions: 2 + 1,
      login_challenges: 1,
      password_reset_tokens: 1,
      email_verifications: 1,
      socket_tickets: 1,
      security_events: 1,
      analytics_events: 1,
      notification_deliveries: 1 + 1,
      automation_executions: 1,
    });
    expect(await ids('SELECT id AS k FROM sessions WHERE id LIKE ?')).toEqual([`${tag}-live`]);
    expect(await ids('SELECT token_hash AS k FROM refresh_tokens WHERE token_hash LIKE ?')).toEqual([`${tag}-rt-new`]);
    for (const table of ['login_challenges', 'password_reset_tokens', 'socket_tickets']) {
      expect(await ids(`SELECT token_hash AS k FROM ${table} WHERE token_hash LIKE ?`), table).toEqual([`${tag}-${table}-new`]);
    }
    expect(await ids('SELECT dedupe_key AS k FROM security_events WHERE dedupe_key LIKE ?')).toEqual([`${tag}-se-new`]);
    expect(await ids('SELECT dedupe_key AS k FROM analytics_events WHERE dedupe_key LIKE ?')).toEqual([`${tag}-ae-new`]);
    const deliveries = await env.DB.prepare('SELECT finished_at FROM notification_deliveries WHERE batch_id = ? ORDER BY id')
      .bind(tag)
      .all();
    expect(deliveries.results).toEqual([{ finished_at: null }, { finished_at: now - 89 * DAY }]);
    expect(await count('notification_attempts')).toBe(0); // went with its delivery
    expect(await ids('SELECT event_id AS k FROM automation_executions WHERE event_id LIKE ?')).toEqual([`${tag}-2`, `${tag}-3`]);
    // The signed-in user's own session and tokens were made now: untouched.
    expect(await count(`sessions WHERE user_id = ${user.id} AND id NOT LIKE '${tag}%'`)).toBe(1);

    expect(Object.values(await purgeExpired(env, now)).every((n) => n === 0)).toBe(true); // nothing left to do
  });

  it('runs from the cron tick once an hour', async () => {
    const { user } = await registerAndLogin(unique('cron'));
    const tag = await seed(user.id);
    const left = () => count(`security_events WHERE dedupe_key = '${tag}-se-old'`);
    await retentionCron(env, now + 60_000); // another minute of the hour: nothing
    expect(await left()).toBe(1);
    await retentionCron(env, now);
    expect(await left()).toBe(0);
  });
});

describe("a run object's storage", () => {
  const objectOf = (runId: number) => env.WORKFLOW_RUN.get(env.WORKFLOW_RUN.idFromName(`run:${runId}`));
  const tables = (runId: number) =>
    runInDurableObject(
      objectOf(runId),
      (_instance, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
          .one().n,
    );

  it('is deleted once its run row is gone, and only then', async () => {
    const { token } = await registerAndLogin(unique('runs'));
    const wf = await createWorkflow(token, { name: 'kept', nodes: simpleNodes });
    const gone = await startRun(token, wf.id, { topic: 'a' });
    const kept = await startRun(token, wf.id, { topic: 'b' });
    await waitForRun(token, wf.id, gone.id);
    await waitForRun(token, wf.id, kept.id);
    expect(await tables(gone.id)).toBeGreaterThan(0);

    // As the owner's cleanup task (or the owner's account going) removes a run's rows.
    await env.DB.prepare('DELETE FROM runs WHERE id = ?').bind(gone.id).run();
    expect(await count(`run_storage_purges WHERE run_id = ${gone.id}`)).toBe(1); // noted by the trigger
    expect(await purgeRunStorage(env)).toBe(1);
    expect(await tables(gone.id)).toBe(0);
    expect(await count('run_storage_purges')).toBe(0);
    expect(await tables(kept.id)).toBeGreaterThan(0);
    expect((await waitForRun(token, wf.id, kept.id)).status).toBe('succeeded');
  });
});
