import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryHash, type ChainRow } from '../../src/audit/chain';
import { api, expectError, registerAndLogin, simpleNodes, unique } from '../helpers';

/*
 * Tampering with the audit trail as someone with direct access to D1 would: the append-only
 * triggers stop ordinary SQL, so the attacker drops them first; each change must then show up in
 * GET /verify, and putting the rows back must make the chain valid again (so each finding is the
 * tampering's and nothing else's). Tests run in order against this file's own database.
 */
let token: string;
const AUDIT = '/api/v3/security/audit';
const COLUMNS = [
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
] as const;

const verify = async () => {
  const res = await api('GET', `${AUDIT}/verify`, { token });
  expect(res.status).toBe(200);
  return res.json as {
    valid: boolean;
    checked: number;
    unsealed: number;
    first_invalid: { id: number; reason: string } | null;
    head: { id: number; hash: string };
    anchor: { id: number; hash: string };
  };
};
const rows = async () => (await env.DB.prepare(`SELECT ${COLUMNS.join(', ')} FROM audit_log ORDER BY id`).all<ChainRow>()).results;
const sql = (query: string, ...binds: unknown[]) =>
  env.DB.prepare(query)
    .bind(...binds)
    .run();

/** Runs `fn` with the append-only triggers dropped, then re-creates them from migration 0005. */
async function withoutTriggers(fn: () => Promise<unknown>) {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0005_'))!;
  const names = migration.queries.map((q) => /CREATE TRIGGER `(\w+)`/.exec(q)![1]!);
  for (const name of names) await sql(`DROP TRIGGER ${name}`);
  try {
    await fn();
  } finally {
    for (const q of migration.queries) await sql(q);
  }
}

/** Writes the given rows back exactly as they were. */
const putBack = (saved: ChainRow[]) =>
  withoutTriggers(async () => {
    for (const r of saved)
      await sql(
        `INSERT OR REPLACE INTO audit_log (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
        ...COLUMNS.map((c) => r[c]),
      );
  });

async function expectValidAgain() {
  expect(await verify()).toMatchObject({ valid: true, first_invalid: null });
}

beforeAll(async () => {
  // Three entries from long ago, for retention.
  for (let i = 0; i < 3; i++)
    await sql("INSERT INTO audit_log (action, outcome, at) VALUES ('legacy.entry', 'success', ?)", Date.now() - 100 * 86_400_000 + i);
  token = (await registerAndLogin(unique('tamperadmin'))).token;
  for (let i = 0; i < 4; i++) {
    const wf = (await api('POST', '/api/v3/workflows', { token, body: { name: `wf ${i}`, nodes: simpleNodes } })).json;
    await api('PATCH', `/api/v3/workflows/${wf.id}`, { token, body: { name: `wf ${i} v2` } });
  }
  expect(await verify()).toMatchObject({ valid: true, unsealed: 0 });
});

describe('append-only triggers', () => {
  it('refuse changing or removing an entry, sealed or not', async () => {
    const before = await rows();
    const first = before[0];
    await expect(sql("UPDATE audit_log SET action = 'x' WHERE id = ?", first!.id)).rejects.toThrow(/append-only/);
    await expect(sql("UPDATE audit_log SET hash = 'x' WHERE id = ?", first!.id)).rejects.toThrow(/append-only/);
    await expect(sql('DELETE FROM audit_log WHERE id = ?', first!.id)).rejects.toThrow(/append-only/);
    const fresh = await sql("INSERT INTO audit_log (action, outcome) VALUES ('fresh.entry', 'success')");
    await expect(sql("UPDATE audit_log SET details = '{}' WHERE id = ?", fresh.meta.last_row_id)).rejects.toThrow(/append-only/);
    expect((await rows()).slice(0, before.length)).toEqual(before);
    await expectValidAgain();
  });
});

describe('chain verification detects', () => {
  it('an edited entry', async () => {
    const all = await rows();
    const target = all[5]!;
    await withoutTriggers(() => sql("UPDATE audit_log SET action = 'workflow.read', details = NULL WHERE id = ?", target.id));
    expect(await verify()).toMatchObject({
      valid: false,
      first_invalid: { id: target.id, reason: expect.stringMatching(/hash does not match/) },
    });
    // The compliance report carries the verdict too.
    expect((await api('GET', `${AUDIT}/report`, { token })).json.chain).toMatchObject({ valid: false, first_invalid: { id: target.id } });
    await putBack([target]);
    await expectValidAgain();
  });

  it('a deleted entry in the middle', async () => {
    const target = (await rows())[6]!;
    await withoutTriggers(() => sql('DELETE FROM audit_log WHERE id = ?', target.id));
    expect(await verify()).toMatchObject({ valid: false, first_invalid: { id: target.id, reason: `entry ${target.id} is missing` } });
    await putBack([target]);
    await expectValidAgain();
  });

  it('deleted entries at the tail, through the anchor kept outside D1', async () => {
    const all = await rows();
    const tail = all.slice(-2);
    const { anchor } = await verify();
    expect(anchor.id).toBe(tail[1]!.id);
    await withoutTriggers(() => sql('DELETE FROM audit_log WHERE id >= ?', tail[0]!.id));
    expect(await verify()).toMatchObject({
      valid: false,
      first_invalid: { id: tail[0]!.id, reason: expect.stringMatching(/chain ends before its anchored head/) },
    });
    await putBack(tail);
    await expectValidAgain();
  });

  it('two entries swapped, with or without their hashes', async () => {
    const all = await rows();
    const [a, b] = [all[7]!, all[8]!];
    const swap = (x: ChainRow, y: ChainRow, keepHashes: boolean): ChainRow => ({
      ...y,
      id: x.id,
      ...(keepHashes ? { prev_hash: x.prev_hash, hash: x.hash } : {}),
    });
    for (const keepHashes of [false, true]) {
      await putBack([swap(a, b, keepHashes), swap(b, a, keepHashes)]);
      const result = await verify();
      expect(result.valid).toBe(false);
      expect(result.first_invalid!.id).toBe(a.id);
      expect(result.first_invalid!.reason).toMatch(keepHashes ? /hash does not match/ : /prev_hash does not link/);
      await putBack([a, b]);
      await expectValidAgain();
    }
  });

  it('a chain rewritten consistently from an edited entry onwards, through the anchor', async () => {
    const all = await rows();
    const from = 4;
    const forged: ChainRow[] = [];
    let prev = all[from - 1]!.hash!;
    for (const row of all.slice(from)) {
      const edited = row === all[from] ? { ...row, actor_user_id: 424242 } : { ...row };
      edited.prev_hash = prev;
      edited.hash = prev = await entryHash(prev, edited);
      forged.push(edited);
    }
    await putBack(forged);
    const result = await verify();
    expect(result).toMatchObject({
      valid: false,
      first_invalid: { id: all.at(-1)!.id, reason: 'the last entry differs from the anchored head' },
    });
    expect(result.checked).toBe(all.length);
    await putBack(all.slice(from));
    await expectValidAgain();
  });

  it('a checkpoint the sealer did not make, even though the triggers allow the deletion it covers', async () => {
    const all = await rows();
    const cut = all[4]!;
    await sql("INSERT INTO audit_checkpoints (upto_id, hash, removed, reason) VALUES (?, ?, 5, 'forged')", cut.id, cut.hash);
    await sql('DELETE FROM audit_log WHERE id <= ?', cut.id);
    expect(await verify()).toMatchObject({
      valid: false,
      first_invalid: { id: cut.id, reason: 'the retention checkpoint was not made by the sealer' },
    });
    await withoutTriggers(() => sql("DELETE FROM audit_checkpoints WHERE reason = 'forged'"));
    await putBack(all.slice(0, 5));
    await expectValidAgain();
  });
});

describe('retention and tampering', () => {
  it('refuses to remove entries that do not verify, then removes them once restored', async () => {
    const all = await rows();
    const old = all[1]!;
    await withoutTriggers(() => sql("UPDATE audit_log SET outcome = 'failure' WHERE id = ?", old.id));
    const refused = await api('POST', `${AUDIT}/retention`, { token, body: { older_than_days: 30 } });
    expectError(refused, 409, 'conflict');
    expect(refused.json.error.details.first_invalid).toMatchObject({ id: old.id });
    expect((await rows()).length).toBe(all.length);
    await putBack([old]);
    const done = await api('POST', `${AUDIT}/retention`, { token, body: { older_than_days: 30 } });
    expect(done.json).toMatchObject({ removed: 3, checkpoint: { upto_id: 3 } });
    expect(await verify()).toMatchObject({ valid: true, checked: all.length - 3 + 1 });
  });

  it('keeps checkpoints append-only, and notices a removed one', async () => {
    await expect(sql("UPDATE audit_checkpoints SET hash = 'x'")).rejects.toThrow(/append-only/);
    await expect(sql('DELETE FROM audit_checkpoints')).rejects.toThrow(/append-only/);
    const [cp] = (await env.DB.prepare('SELECT * FROM audit_checkpoints').all<Record<string, unknown>>()).results;
    await withoutTriggers(() => sql('DELETE FROM audit_checkpoints'));
    expect(await verify()).toMatchObject({
      valid: false,
      first_invalid: { id: 1, reason: 'the retention checkpoint up to entry 3 is missing' },
    });
    await sql(
      'INSERT INTO audit_checkpoints (id, upto_id, hash, removed, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      cp!.id,
      cp!.upto_id,
      cp!.hash,
      cp!.removed,
      cp!.reason,
      cp!.created_at,
    );
    await expectValidAgain();
  });
});

// Last: an id taken by a forged row cannot be handed back, so this one is not undone.
describe('hashes written outside the sealer', () => {
  it('are reported, and sealing stops before them', async () => {
    const forged = await sql(
      "INSERT INTO audit_log (action, outcome, prev_hash, hash) VALUES ('forged.entry', 'success', ?, ?)",
      '0'.repeat(64),
      'f'.repeat(64),
    );
    await api('POST', '/api/v3/workflows', { token, body: { name: 'after the forgery', nodes: simpleNodes } });
    const result = await verify();
    expect(result).toMatchObject({
      valid: false,
      unsealed: 1,
      first_invalid: { id: forged.meta.last_row_id, reason: expect.stringMatching(/hash the sealer did not write/) },
    });
  });
});
