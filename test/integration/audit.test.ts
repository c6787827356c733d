import { createScheduledController, env, SELF } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import worker from '../../src/index';
import { api, BASE, count, expectError, registerAndLogin, simpleNodes, STRONG_PASSWORD, unique } from '../helpers';

/*
 * The audit trail's read side: listing with filters and pagination, export, the compliance
 * report, retention and access. Tampering is in audit.tamper.test.ts. This file's storage is its
 * own: the first entries are written straight into D1 with old timestamps (as if from long
 * ago) so that retention has something to remove.
 */
type Session = Awaited<ReturnType<typeof registerAndLogin>>;
let admin: Session;
let editor: Session;
let viewer: Session;
let readKey: string;
let workflowId: number;
const DAY = 86_400_000;
const AUDIT = '/api/v3/security/audit';
const UA = '@SUM(1+1)*cmd|"calc",x';

async function insertOld(n: number, daysAgo: number) {
  const at = Date.now() - daysAgo * DAY;
  for (let i = 0; i < n; i++)
    await env.DB.prepare("INSERT INTO audit_log (action, outcome, at, details) VALUES ('legacy.entry', 'success', ?, ?)")
      .bind(at + i, JSON.stringify({ days_ago: daysAgo }))
      .run();
}

beforeAll(async () => {
  await insertOld(3, 500);
  await insertOld(3, 100);
  admin = await registerAndLogin(unique('auditadmin'));
  editor = await registerAndLogin(unique('auditeditor'));
  viewer = await registerAndLogin(unique('auditviewer'));
  await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } });
  readKey = (await api('POST', '/api/v3/auth/api-keys', { token: admin.token, body: { name: 'audit-reader', scopes: ['security:read'] } }))
    .json.key;
  workflowId = (
    await api('POST', '/api/v3/workflows', {
      token: admin.token,
      body: { name: 'audited', nodes: simpleNodes },
      headers: { 'user-agent': UA },
    })
  ).json.id;
  await api('PATCH', `/api/v3/workflows/${workflowId}`, { token: admin.token, body: { name: 'audited v2' } });
  await api('POST', '/api/v3/workflows', { token: editor.token, body: { name: 'editor flow', nodes: simpleNodes } });
  for (const [login, ip] of [
    ['ghost,"quoted"', '198.51.100.7'],
    ['ghost,"quoted"', '198.51.100.7'],
    ['ghost,"quoted"', '198.51.100.8'],
    [editor.user.username, '198.51.100.7'],
  ] as const) {
    const res = await api('POST', '/api/v3/auth/login', {
      body: { username: login, password: `${STRONG_PASSWORD}-wrong` },
      headers: { 'cf-connecting-ip': ip },
    });
    expect(res.status).toBe(401);
  }
});

type Entry = {
  id: number;
  at: string;
  action: string;
  actor_user_id: number | null;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  hash: string | null;
  prev_hash: string | null;
  sealed: boolean;
  user_agent: string | null;
  details: unknown;
};

/** Every page of a listing, following next_cursor. */
async function allPages(query: string, token = admin.token, limit = 3): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | null = null;
  do {
    const res = await api('GET', `${AUDIT}/logs?limit=${limit}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`, { token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.items.length).toBeLessThanOrEqual(limit);
    out.push(...res.json.items);
    cursor = res.json.next_cursor;
  } while (cursor);
  return out;
}

const idsWhere = async (where: string, ...binds: unknown[]) =>
  (
    await env.DB.prepare(`SELECT id FROM audit_log WHERE ${where} ORDER BY id DESC`)
      .bind(...binds)
      .all<{ id: number }>()
  ).results.map((r) => r.id);

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  expect(field).toBe('');
  return rows;
}

describe('audit log listing', () => {
  it('lists newest first with hashes, sealing what is pending first', async () => {
    const items = await allPages('', admin.token, 50);
    expect(items.map((e) => e.id)).toEqual(await idsWhere('1 = 1'));
    expect(items.every((e) => e.sealed && /^[0-9a-f]{64}$/.test(e.hash!) && /^[0-9a-f]{64}$/.test(e.prev_hash!))).toBe(true);
    for (let i = 0; i + 1 < items.length; i++) expect(items[i]!.prev_hash).toBe(items[i + 1]!.hash);
    const created = items.find((e) => e.action === 'workflow.create' && e.target_id === String(workflowId))!;
    expect(created).toMatchObject({
      actor_user_id: admin.user.id,
      target_type: 'workflow',
      outcome: 'success',
      user_agent: UA,
      details: { version: 1 },
    });
  });

  it('filters by actor, action, action family, target, outcome and time, across pages', async () => {
    expect((await allPages(`user_id=${editor.user.id}`)).map((e) => e.id)).toEqual(await idsWhere('actor_user_id = ?', editor.user.id));
    expect((await allPages('action=workflow.create')).map((e) => e.id)).toEqual(await idsWhere("action = 'workflow.create'"));
    const auth = await allPages('action=auth.*');
    expect(auth.map((e) => e.id)).toEqual(await idsWhere("action LIKE 'auth.%'"));
    expect(auth.length).toBeGreaterThan(5);
    expect((await allPages(`target_type=workflow&target_id=${workflowId}`)).map((e) => e.action)).toEqual([
      'workflow.update',
      'workflow.create',
    ]);
    expect((await allPages('outcome=failure&action=auth.login')).map((e) => e.id)).toEqual(
      await idsWhere("outcome = 'failure' AND action = 'auth.login'"),
    );
    const cut = Date.now() - 50 * DAY;
    expect((await allPages(`to=${cut}`)).map((e) => e.id)).toEqual(await idsWhere('at <= ?', cut));
    expect((await allPages(`from=${new Date(cut).toISOString()}&action=legacy.entry`)).map((e) => e.id)).toEqual(
      await idsWhere("at >= ? AND action = 'legacy.entry'", cut),
    );
  });

  it('rejects malformed filters and cursors', async () => {
    for (const q of ['action=auth.%25', 'action=*', 'user_id=abc', 'from=yesterday', 'outcome=maybe', 'limit=1000']) {
      expectError(await api('GET', `${AUDIT}/logs?${q}`, { token: admin.token }), 400, 'validation_error');
    }
    expectError(await api('GET', `${AUDIT}/logs?from=2026-02-01&to=2026-01-01`, { token: admin.token }), 400, 'validation_error');
    expectError(await api('GET', `${AUDIT}/logs?cursor=nope`, { token: admin.token }), 400, 'bad_request');
  });
});

describe('audit export', () => {
  it('streams JSON and CSV attachments that hold the same entries, and audits itself', async () => {
    const before = await count("audit_log WHERE action = 'audit.export'");
    const json = await SELF.fetch(`${BASE}${AUDIT}/export?format=json&target_type=workflow`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(json.status).toBe(200);
    expect(json.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.*\.json"$/);
    const entries = (await json.json()) as Entry[];
    expect(entries.map((e) => e.id)).toEqual((await idsWhere("target_type = 'workflow'")).reverse());

    const csv = await SELF.fetch(`${BASE}${AUDIT}/export?format=csv&target_type=workflow`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    const text = await csv.text();
    // The user agent started with @: a spreadsheet would run it, so it is written as text.
    expect(text).toContain(`"'${UA.replace(/"/g, '""')}"`);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([
      'id',
      'at',
      'actor_user_id',
      'actor_api_key_id',
      'action',
      'outcome',
      'target_type',
      'target_id',
      'request_id',
      'ip',
      'user_agent',
      'details',
      'prev_hash',
      'hash',
      'sealed',
    ]);
    const fromCsv = rows.map((r) => {
      // An apostrophe before =, +, -, @ is the export's formula guard, not part of the value.
      const o: Record<string, string | null> = Object.fromEntries(
        header!.map((h, i) => [h, r[i] === '' ? null : r[i]!.replace(/^'(?=[=+\-@\t\r])/, '')]),
      );
      const num = (v: string | null) => (v === null ? null : Number(v));
      return {
        ...o,
        id: Number(o.id),
        actor_user_id: num(o.actor_user_id!),
        actor_api_key_id: num(o.actor_api_key_id!),
        details: o.details ? JSON.parse(o.details) : null,
        sealed: o.sealed === 'true',
      };
    });
    expect(fromCsv).toEqual(entries);

    expect(await count("audit_log WHERE action = 'audit.export'")).toBe(before + 2);
    const [last] = await allPages('action=audit.export', admin.token, 1).then((e) => e.slice(0, 1));
    expect(last).toMatchObject({
      actor_user_id: admin.user.id,
      target_type: 'audit_log',
      details: { format: 'csv', filter: { target_type: 'workflow' } },
    });
  });

  it('exports with filters in the query, and refuses bad ones', async () => {
    const res = await api('GET', `${AUDIT}/export?action=auth.login&outcome=failure`, { token: admin.token });
    expect(res.json.map((e: Entry) => e.id)).toEqual((await idsWhere("action = 'auth.login' AND outcome = 'failure'")).reverse());
    expectError(await api('GET', `${AUDIT}/export?format=xml`, { token: admin.token }), 400, 'validation_error');
  });
});

describe('compliance report', () => {
  // Entries and events written straight into D1 inside a window three days ago, so every figure
  // can be checked against the rows this test made.
  const T0 = Date.now() - 3 * DAY;
  const T1 = T0 + 3_600_000;

  it('counts admin actions, resource access, failed logins and security events in the period', async () => {
    const a = admin.user.id;
    const e = editor.user.id;
    const rows: [number | null, string, string, string | null, string | null, string | null, string | null][] = [
      // actor, action, outcome, target_type, target_id, login, ip
      [a, 'workflow.create', 'success', 'workflow', '11', null, null],
      [a, 'workflow.update', 'success', 'workflow', '11', null, null],
      [a, 'user.role_change', 'success', 'user', String(e), null, null],
      [e, 'workflow.update', 'success', 'workflow', '11', null, null],
      [e, 'document.update', 'success', 'document', '5', null, null],
      [null, 'auth.login', 'failure', null, null, 'mallory', '203.0.113.9'],
      [null, 'auth.login', 'failure', null, null, 'mallory', '203.0.113.9'],
      [null, 'auth.login', 'failure', null, null, 'mallory', '203.0.113.10'],
      [null, 'auth.login', 'failure', null, null, 'root', '203.0.113.9'],
    ];
    const insert = env.DB.prepare(
      'INSERT INTO audit_log (at, actor_user_id, action, outcome, target_type, target_id, ip, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    await env.DB.batch([
      ...rows.map(([actor, action, outcome, tt, tid, login, ip], i) =>
        insert.bind(
          T0 + i * 1000,
          actor,
          action,
          outcome,
          tt,
          tid,
          ip,
          login ? JSON.stringify({ login, reason: 'invalid_credentials' }) : null,
        ),
      ),
      // Just outside the period on both sides: not counted.
      insert.bind(T0 - 1, a, 'workflow.delete', 'success', 'workflow', '11', null, null),
      insert.bind(T1 + 1, null, 'auth.login', 'failure', null, null, '203.0.113.9', JSON.stringify({ login: 'mallory' })),
    ]);
    const event = env.DB.prepare('INSERT INTO security_events (at, type, severity) VALUES (?, ?, ?)');
    await env.DB.batch([
      event.bind(T0, 'mfa_failure', 'medium'),
      event.bind(T0 + 5, 'mfa_failure', 'medium'),
      event.bind(T0 + 9, 'ip_blocked', 'high'),
      event.bind(T1 + 1, 'ip_blocked', 'high'),
    ]);

    const res = await api('GET', `${AUDIT}/report?from=${new Date(T0).toISOString()}&to=${T1}`, { token: admin.token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const r = res.json;
    expect(r.entries).toEqual({ total: 9, success: 5, failure: 4 });
    expect(r.admin_actions).toEqual({
      truncated: false,
      rows: expect.arrayContaining([
        { actor_user_id: a, username: admin.user.username, action: 'workflow.create', count: 1 },
        { actor_user_id: a, username: admin.user.username, action: 'workflow.update', count: 1 },
        { actor_user_id: a, username: admin.user.username, action: 'user.role_change', count: 1 },
      ]),
    });
    expect(r.admin_actions.rows).toHaveLength(3);
    expect(r.resource_access.by_type).toEqual([
      { target_type: 'workflow', count: 3, resources: 1, actors: 2 },
      { target_type: 'document', count: 1, resources: 1, actors: 1 },
      { target_type: 'user', count: 1, resources: 1, actors: 1 },
    ]);
    expect(r.resource_access.by_resource.rows).toEqual([
      { target_type: 'workflow', target_id: '11', actor_user_id: a, count: 2 },
      { target_type: 'document', target_id: '5', actor_user_id: e, count: 1 },
      { target_type: 'user', target_id: String(e), actor_user_id: a, count: 1 },
      { target_type: 'workflow', target_id: '11', actor_user_id: e, count: 1 },
    ]);
    expect(r.failed_logins.total).toBe(4);
    expect(r.failed_logins.by_login_and_ip.rows.map((x: { login: string; ip: string; count: number }) => [x.login, x.ip, x.count])).toEqual(
      [
        ['mallory', '203.0.113.9', 2],
        ['mallory', '203.0.113.10', 1],
        ['root', '203.0.113.9', 1],
      ],
    );
    expect(r.security_events).toEqual({
      total: 3,
      by_type_and_severity: [
        { type: 'mfa_failure', severity: 'medium', count: 2 },
        { type: 'ip_blocked', severity: 'high', count: 1 },
      ],
    });
    expect(r.chain).toMatchObject({ valid: true, unsealed: 0, first_invalid: null });
  });

  it('reports the failed logins made through the API over the default period, and offers CSV', async () => {
    const r = (await api('GET', `${AUDIT}/report`, { token: admin.token })).json;
    const failed = r.failed_logins.by_login_and_ip.rows.map((x: { login: string; ip: string; count: number }) => [x.login, x.ip, x.count]);
    expect(failed).toEqual(
      expect.arrayContaining([
        ['ghost,"quoted"', '198.51.100.7', 2],
        ['ghost,"quoted"', '198.51.100.8', 1],
        [editor.user.username, '198.51.100.7', 1],
      ]),
    );
    const csv = await SELF.fetch(`${BASE}${AUDIT}/report?format=csv&from=${T0}&to=${T1}`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="audit-report-.*\.csv"/);
    const rows = parseCsv(await csv.text());
    expect(rows[0]).toEqual([
      'section',
      'actor_user_id',
      'username',
      'action',
      'target_type',
      'target_id',
      'login',
      'ip',
      'event_type',
      'severity',
      'count',
    ]);
    expect(rows).toContainEqual(['failed_logins', '', '', '', '', '', 'mallory', '203.0.113.9', '', '', '2']);
    expect(rows).toContainEqual(['security_events', '', '', '', '', '', '', '', 'mfa_failure', 'medium', '2']);
    expectError(await api('GET', `${AUDIT}/report?from=${T1}&to=${T0}`, { token: admin.token }), 400, 'validation_error');
  });
});

describe('audit chain verification', () => {
  it('verifies every entry written so far', async () => {
    const res = await api('GET', `${AUDIT}/verify`, { token: admin.token });
    expect(res.status).toBe(200);
    const total = await count('audit_log');
    expect(res.json).toMatchObject({ valid: true, checked: total, invalid: 0, unsealed: 0, first_invalid: null, checkpoint: null });
    expect(res.json.head).toEqual({ id: res.json.anchor.id, hash: res.json.anchor.hash });
  });

  it('is sealed by the cron tick too, which applies AUDIT_RETENTION_DAYS (365)', async () => {
    await api('PATCH', `/api/v3/workflows/${workflowId}`, { token: admin.token, body: { name: 'sealed by cron' } });
    expect(await count('audit_log WHERE hash IS NULL')).toBeGreaterThan(0);
    await worker.scheduled(createScheduledController({ cron: '* * * * *' }), env);
    // Only the retention's own entry, written after sealing, waits for the next seal.
    const unsealed = await env.DB.prepare('SELECT action, actor_user_id FROM audit_log WHERE hash IS NULL').all();
    expect(unsealed.results).toEqual([{ action: 'audit.retention', actor_user_id: null }]);
    // The three entries from 500 days ago are gone behind a checkpoint; those from 100 days ago stay.
    expect(await count("audit_log WHERE action = 'legacy.entry'")).toBe(3);
    const cp = await env.DB.prepare('SELECT upto_id, removed FROM audit_checkpoints').all();
    expect(cp.results).toEqual([{ upto_id: 3, removed: 3 }]);
    expect((await api('GET', `${AUDIT}/verify`, { token: admin.token })).json).toMatchObject({
      valid: true,
      checkpoint: { upto_id: 3, removed: 3 },
    });
  });
});

describe('audit retention', () => {
  it('refuses bad bodies and changes nothing', async () => {
    const before = await count('audit_log');
    for (const body of [{}, { older_than_days: 0 }, { older_than_days: 1.5 }, { older_than_days: 30, upto_id: 999 }]) {
      expectError(await api('POST', `${AUDIT}/retention`, { token: admin.token, body }), 400, 'validation_error');
    }
    expect(await count('audit_log')).toBe(before);
  });

  it('removes old entries behind a checkpoint, audited, and the chain still verifies', async () => {
    const res = await api('POST', `${AUDIT}/retention`, { token: admin.token, body: { older_than_days: 30 } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json).toMatchObject({ removed: 3, checkpoint: { upto_id: 6, hash: expect.stringMatching(/^[0-9a-f]{64}$/) }, more: false });
    expect(await count("audit_log WHERE action = 'legacy.entry'")).toBe(0);
    const verify = (await api('GET', `${AUDIT}/verify`, { token: admin.token })).json;
    expect(verify).toMatchObject({ valid: true, checkpoint: { upto_id: 6, removed: 3, hash: res.json.checkpoint.hash } });
    const first = await env.DB.prepare('SELECT id, prev_hash FROM audit_log ORDER BY id LIMIT 1').first<{
      id: number;
      prev_hash: string;
    }>();
    expect(first).toEqual({ id: 7, prev_hash: res.json.checkpoint.hash });
    const [audit] = await allPages('action=audit.retention', admin.token, 1).then((e) => e.slice(0, 1));
    expect(audit).toMatchObject({ actor_user_id: admin.user.id, details: { removed: 3, checkpoint: { upto_id: 6 } } });

    // Nothing older remains: the request is still audited, and removes nothing.
    const again = await api('POST', `${AUDIT}/retention`, { token: admin.token, body: { older_than_days: 30 } });
    expect(again.json).toMatchObject({ removed: 0, checkpoint: null });
    expect(await count(`audit_log WHERE action = 'audit.retention' AND actor_user_id = ${admin.user.id}`)).toBe(2);
  });
});

describe('audit access', () => {
  it('is for admins only: editors and viewers get 403, as does an API key without the admin scope for retention', async () => {
    for (const token of [editor.token, viewer.token]) {
      for (const path of ['logs', 'verify', 'export', 'report'])
        expectError(await api('GET', `${AUDIT}/${path}`, { token }), 403, 'forbidden');
      expectError(await api('POST', `${AUDIT}/retention`, { token, body: { older_than_days: 30 } }), 403, 'forbidden');
    }
    expect((await api('GET', `${AUDIT}/logs?limit=50`, { apiKey: readKey })).status).toBe(200);
    expectError(await api('POST', `${AUDIT}/retention`, { apiKey: readKey, body: { older_than_days: 30 } }), 403, 'forbidden');
    expectError(await api('GET', `${AUDIT}/logs`), 401, 'unauthorized');
  });
});
