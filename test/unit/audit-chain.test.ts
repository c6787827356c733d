import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import {
  canonicalEntry,
  computeSeals,
  entryHash,
  GENESIS,
  readEntries,
  verifyChain,
  writeSeals,
  type ChainRow,
} from '../../src/audit/chain';
import { csvField, csvLine } from '../../src/audit/export';
import { dailyCutoff, DAY_MS, planRetention } from '../../src/audit/retention';
import { auditChain } from '../../src/audit/rpc';

const row = (over: Partial<ChainRow>): ChainRow => ({
  id: 1,
  at: 0,
  actor_user_id: null,
  actor_api_key_id: null,
  action: 'x',
  outcome: 'success',
  target_type: null,
  target_id: null,
  request_id: null,
  ip: null,
  user_agent: null,
  details: null,
  prev_hash: null,
  hash: null,
  ...over,
});

/** Entries written straight into D1, as auditInsert would (hash NULL). */
async function insertEntries(n: number, action = 'unit.test', at?: number) {
  const stmt = env.DB.prepare(
    "INSERT INTO audit_log (action, outcome, details, at) VALUES (?, 'success', ?, coalesce(?, cast((julianday('now') - 2440587.5) * 86400000 as integer)))",
  );
  await env.DB.batch(Array.from({ length: n }, (_, i) => stmt.bind(action, JSON.stringify({ i }), at ?? null)));
}

const anchor = () => auditChain(env).anchor();
/** The chain's stub as the test pool needs it, to reach inside the object. */
const rawChain = () => env.AUDIT_CHAIN.get(env.AUDIT_CHAIN.idFromName('audit'));

describe('the audit hash', () => {
  // Expected values computed outside the Worker (Python hashlib over the same canonical JSON).
  it('is SHA-256 over the previous hash and the canonical JSON of every recorded field', async () => {
    const first = row({
      id: 1,
      at: 1700000000000,
      actor_user_id: 7,
      action: 'auth.login',
      target_type: 'session',
      target_id: 'abc',
      request_id: 'req-1',
      ip: '203.0.113.5',
      user_agent: 'curl/8',
      details: '{"login":"alice"}',
    });
    expect(canonicalEntry(first)).toBe(
      '[1,1700000000000,7,null,"auth.login","success","session","abc","req-1","203.0.113.5","curl/8","{\\"login\\":\\"alice\\"}"]',
    );
    const h1 = await entryHash(GENESIS.hash, first);
    expect(h1).toBe('9c1f1adec93f4779a18775d44717bea62b417a71941aadf4773b1dda3aec701e');
    const second = row({ id: 2, at: 1700000000001, action: 'workflow.create', outcome: 'failure' });
    expect(await entryHash(h1, second)).toBe('29dea4926d6072c5db4da1f10d537fb8f7e3684152958035410ef840ba18efb4');
  });

  it('changes when any field, the id or the previous hash changes', async () => {
    const base = row({ id: 5, at: 10, action: 'a', details: '{}' });
    const h = await entryHash(GENESIS.hash, base);
    const variants = [
      { id: 6 },
      { at: 11 },
      { actor_user_id: 1 },
      { actor_api_key_id: 1 },
      { action: 'b' },
      { outcome: 'failure' },
      { target_type: 't' },
      { target_id: '1' },
      { request_id: 'r' },
      { ip: '::1' },
      { user_agent: 'u' },
      { details: '{"a":1}' },
    ];
    for (const v of variants) expect(await entryHash(GENESIS.hash, { ...base, ...v }), JSON.stringify(v)).not.toBe(h);
    expect(await entryHash('f'.repeat(64), base)).not.toBe(h);
  });

  it('chains seals in order and stops at an entry it did not seal', async () => {
    const rows = [row({ id: 1 }), row({ id: 2 }), row({ id: 3, hash: 'x' }), row({ id: 4 })];
    const { seals, foreign } = await computeSeals(GENESIS, rows);
    expect(seals.map((s) => s.id)).toEqual([1, 2]);
    expect(seals[0]!.prev_hash).toBe(GENESIS.hash);
    expect(seals[1]!.prev_hash).toBe(seals[0]!.hash);
    expect(foreign).toBe(3);
  });
});

describe('CSV fields', () => {
  it('quote per RFC 4180 and neutralise formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx']) expect(csvField(f)).toBe(`'${f}`);
    expect(csvField('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(csvLine(['a', 1, null])).toBe('a,1,\r\n');
  });

  it('has a daily cutoff at a UTC midnight', () => {
    const now = Date.UTC(2026, 10, 23, 15, 30);
    expect(dailyCutoff(now, 10)).toBe(Date.UTC(2026, 10, 13));
    expect(dailyCutoff(now, 10) % DAY_MS).toBe(0);
  });
});

// These share this file's D1 database and the one sealer object, in order.
describe('the sealer object', () => {
  it('seals concurrently requested work exactly once, in id order', async () => {
    await insertEntries(450);
    const results = await Promise.all(Array.from({ length: 5 }, () => auditChain(env).seal()));
    expect(results.reduce((n, r) => n + r.sealed, 0)).toBe(450);
    const unsealed = await env.DB.prepare('SELECT count(*) AS n FROM audit_log WHERE hash IS NULL').first<{ n: number }>();
    expect(unsealed!.n).toBe(0);
    const head = (await anchor())!;
    expect(head.id).toBe(450);
    const result = await verifyChain(env.DB, head, null, 64);
    expect(result).toMatchObject({ valid: true, checked: 450, unsealed: 0, first_invalid: null, head: { id: 450, hash: head.hash } });
  });

  it('stops at maxRows and continues where it stopped', async () => {
    await insertEntries(30);
    expect((await auditChain(env).seal(10)).sealed).toBe(10);
    expect((await verifyChain(env.DB, (await anchor())!, null)).unsealed).toBe(20);
    expect((await auditChain(env).seal()).sealed).toBe(20);
    expect((await auditChain(env).verify()).valid).toBe(true);
  });

  it('completes a seal whose D1 write landed before the object could record it', async () => {
    await insertEntries(3);
    const stub = auditChain(env);
    const head = (await anchor())!;
    const { seals } = await computeSeals(head, await readEntries(env.DB, head.id, null, 10));
    const last = seals.at(-1)!;
    // As if evicted after D1 answered: the pending step is recorded, the head not yet moved.
    await runInDurableObject(rawChain(), (_, state) =>
      state.storage.sql.exec('UPDATE head SET pending_id = ?, pending_hash = ? WHERE k = 1', last.id, last.hash),
    );
    expect(await writeSeals(env.DB, seals)).toBe(3);
    expect(await stub.seal()).toMatchObject({ sealed: 0, head: { id: last.id, hash: last.hash } });
    expect((await stub.verify()).valid).toBe(true);
  });

  it('drops a pending step whose D1 write never happened, and seals the entries again', async () => {
    await insertEntries(2);
    const stub = auditChain(env);
    const head = (await anchor())!;
    await runInDurableObject(rawChain(), (_, state) =>
      state.storage.sql.exec('UPDATE head SET pending_id = ?, pending_hash = ? WHERE k = 1', head.id + 2, 'f'.repeat(64)),
    );
    expect((await stub.seal()).sealed).toBe(2);
    expect(await stub.verify()).toMatchObject({ valid: true, head: { id: head.id + 2 } });
  });

  it('plans retention as a prefix of sealed entries older than the cutoff', async () => {
    const head = (await anchor())!;
    const now = Date.now();
    // Every entry so far is recent: nothing qualifies.
    expect(await planRetention(env.DB, head, now - DAY_MS)).toBeNull();
    // A cutoff in the future covers all sealed entries, up to the head and the row cap.
    expect(await planRetention(env.DB, head, now + DAY_MS, 100)).toMatchObject({ start: GENESIS, upto: { id: 100 }, removed: 100 });
    const all = await planRetention(env.DB, head, now + DAY_MS);
    expect(all).toMatchObject({ upto: { id: head.id, hash: head.hash }, removed: head.id });
  });
});
