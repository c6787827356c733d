/*
 * The audit hash chain. Entries are inserted with `hash` NULL inside the batch of the change they
 * record; the AuditChain object later seals them in id order: each entry's hash is
 * SHA-256(previous entry's hash || canonical form of this entry). Because D1 is a single SQLite
 * writer and audit_log.id is AUTOINCREMENT, id order is commit order and ids have no gaps (a
 * rolled-back batch rolls its ids back too), so a missing id means a removed entry.
 *
 * These functions read D1 through the raw binding rather than drizzle: the hash covers the
 * column values exactly as stored (details as its JSON text), and drizzle would parse and
 * re-serialise them.
 */

/** The hash the first entry links to when no retention checkpoint precedes it. */
export const GENESIS: ChainLink = { id: 0, hash: '0'.repeat(64) };

/** A position in the chain: an entry id (or checkpoint upto_id) and the hash the next entry links to. */
export type ChainLink = { id: number; hash: string };

/** An audit_log row as D1 returns it. */
export type ChainRow = {
  id: number;
  at: number;
  actor_user_id: number | null;
  actor_api_key_id: number | null;
  action: string;
  outcome: string;
  target_type: string | null;
  target_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: string | null;
  prev_hash: string | null;
  hash: string | null;
};

const COLUMNS =
  'id, at, actor_user_id, actor_api_key_id, action, outcome, target_type, target_id, request_id, ip, user_agent, details, prev_hash, hash';

/**
 * The canonical form hashed for an entry: a JSON array of every recorded field in a fixed order.
 * JSON.stringify of strings, integers and null is deterministic, so seal and verify agree.
 */
export function canonicalEntry(row: ChainRow): string {
  return JSON.stringify([
    row.id,
    row.at,
    row.actor_user_id,
    row.actor_api_key_id,
    row.action,
    row.outcome,
    row.target_type,
    row.target_id,
    row.request_id,
    row.ip,
    row.user_agent,
    row.details,
  ]);
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** SHA-256 (hex) of the previous hash followed by the entry's canonical form. */
export async function entryHash(prevHash: string, row: ChainRow): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(prevHash + canonicalEntry(row))));
}

/** Entries with id in (afterId, uptoId] (no upper bound when null), in id order, at most `limit`. */
export async function readEntries(d1: D1Database, afterId: number, uptoId: number | null, limit: number): Promise<ChainRow[]> {
  const query =
    uptoId === null
      ? d1.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id > ? ORDER BY id LIMIT ?`).bind(afterId, limit)
      : d1.prepare(`SELECT ${COLUMNS} FROM audit_log WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`).bind(afterId, uptoId, limit);
  return (await query.all<ChainRow>()).results;
}

export type Seal = { id: number; prev_hash: string; hash: string };

/**
 * Hashes the given entries (in id order) onto `head`. Stops at the first entry that already has
 * a hash: only the sealer writes hashes, so one it did not write is not chained onto.
 */
export async function computeSeals(head: ChainLink, rows: ChainRow[]): Promise<{ seals: Seal[]; foreign: number | null }> {
  const seals: Seal[] = [];
  let prev = head.hash;
  for (const row of rows) {
    if (row.hash !== null) return { seals, foreign: row.id };
    const hash = await entryHash(prev, row);
    seals.push({ id: row.id, prev_hash: prev, hash });
    prev = hash;
  }
  return { seals, foreign: null };
}

/**
 * Writes the seals in one statement (atomic on its own; one bound JSON array rather than one
 * statement per row). `hash IS NULL` makes it a no-op for anything sealed meanwhile. Returns
 * the number of entries sealed.
 */
export async function writeSeals(d1: D1Database, seals: Seal[]): Promise<number> {
  if (seals.length === 0) return 0;
  const payload = JSON.stringify(seals.map((s) => [s.id, s.prev_hash, s.hash]));
  const res = await d1
    .prepare(`UPDATE audit_log SET prev_hash = s.prev_hash, hash = s.hash
      FROM (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS prev_hash, json_extract(value, '$[2]') AS hash FROM json_each(?)) AS s
      WHERE audit_log.id = s.id AND audit_log.hash IS NULL`)
    .bind(payload)
    .run();
  return res.meta.changes;
}

export async function hashOf(d1: D1Database, id: number): Promise<string | null> {
  return (await d1.prepare('SELECT hash FROM audit_log WHERE id = ?').bind(id).first<{ hash: string | null }>())?.hash ?? null;
}

export type Checkpoint = { id: number; upto_id: number; hash: string; removed: number; reason: string; created_at: number };

/** The latest retention checkpoint: verification starts there. */
export async function latestCheckpoint(d1: D1Database): Promise<Checkpoint | null> {
  return d1
    .prepare('SELECT id, upto_id, hash, removed, reason, created_at FROM audit_checkpoints ORDER BY upto_id DESC, id DESC LIMIT 1')
    .first<Checkpoint>();
}

/** Where the chain starts: the latest checkpoint, or genesis. */
export async function chainStart(d1: D1Database): Promise<ChainLink> {
  const cp = await latestCheckpoint(d1);
  return cp ? { id: cp.upto_id, hash: cp.hash } : GENESIS;
}

/** The last entry D1 holds with a hash, if any. */
export async function lastSealed(d1: D1Database): Promise<ChainLink | null> {
  return d1.prepare('SELECT id, hash FROM audit_log WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1').first<ChainLink>();
}

/** The lowest-id problem found, and how many there were. */
export class Findings {
  count = 0;
  first: { id: number; reason: string } | null = null;
  add(id: number, reason: string) {
    this.count++;
    if (!this.first || id < this.first.id) this.first = { id, reason };
  }
}

export const VERIFY_PAGE = 500;

/**
 * Walks the entries in (start.id, end] page by page, in id order, and checks each one: its id
 * follows the previous one, it is sealed, its prev_hash is the previous entry's hash, and its
 * hash matches its contents. Returns the last entry reached and the number checked.
 */
export async function walkChain(
  d1: D1Database,
  start: ChainLink,
  end: number,
  findings: Findings,
  pageSize = VERIFY_PAGE,
): Promise<{ last: ChainLink; checked: number }> {
  let prev = start;
  let checked = 0;
  for (;;) {
    const rows = await readEntries(d1, prev.id, end, pageSize);
    for (const row of rows) {
      checked++;
      if (row.id !== prev.id + 1)
        findings.add(
          prev.id + 1,
          row.id === prev.id + 2 ? `entry ${prev.id + 1} is missing` : `entries ${prev.id + 1}-${row.id - 1} are missing`,
        );
      if (row.hash === null) {
        findings.add(row.id, 'entry is not sealed, yet lies inside the sealed chain');
      } else {
        if (row.prev_hash !== prev.hash) findings.add(row.id, 'prev_hash does not link to the previous entry');
        if ((await entryHash(row.prev_hash ?? '', row)) !== row.hash) findings.add(row.id, 'hash does not match the entry');
      }
      prev = { id: row.id, hash: row.hash ?? '' };
    }
    if (rows.length < pageSize) return { last: prev, checked };
  }
}

/** The head kept by the sealer, when it last moved, whether it was adopted from D1, and its latest checkpoint. */
export type Anchor = ChainLink & { updated_at: number | null; adopted_at: number | null; checkpoint_upto_id: number | null };

export type VerifyResult = {
  valid: boolean;
  checked: number;
  invalid: number;
  unsealed: number;
  first_invalid: { id: number; reason: string } | null;
  head: ChainLink;
  anchor: Anchor;
  checkpoint: { upto_id: number; hash: string; removed: number; created_at: number } | null;
};

/**
 * Verifies the whole retained chain against the anchor kept outside D1 (its head, and the latest
 * checkpoint its retention made). Besides each entry's own checks it reports: a checkpoint the
 * sealer did not make, or one of its checkpoints missing; entries left at or below the checkpoint,
 * a chain that ends before the anchored head (tail removed) or whose last hash differs from it
 * (rewritten), and hashes on entries after the anchor (written by something other than the sealer).
 */
export async function verifyChain(
  d1: D1Database,
  anchor: Anchor,
  knownCheckpoint: ChainLink | null,
  pageSize = VERIFY_PAGE,
): Promise<VerifyResult> {
  const findings = new Findings();
  const cp = await latestCheckpoint(d1);
  const start = cp ? { id: cp.upto_id, hash: cp.hash } : GENESIS;
  if (knownCheckpoint && start.id < knownCheckpoint.id)
    findings.add(start.id + 1, `the retention checkpoint up to entry ${knownCheckpoint.id} is missing`);
  else if (cp && (start.id !== knownCheckpoint?.id || start.hash !== knownCheckpoint.hash))
    findings.add(start.id, 'the retention checkpoint was not made by the sealer');
  const below = await d1.prepare('SELECT min(id) AS id FROM audit_log WHERE id <= ?').bind(start.id).first<{ id: number | null }>();
  if (below?.id != null) findings.add(below.id, 'entry lies at or below the retention checkpoint');
  if (anchor.id < start.id) findings.add(anchor.id + 1, 'the retention checkpoint lies beyond the anchored head');

  const { last, checked } = await walkChain(d1, start, anchor.id, findings, pageSize);
  if (last.id < anchor.id) {
    findings.add(last.id + 1, `entries ${last.id + 1}-${anchor.id} are missing: the chain ends before its anchored head`);
  } else if (last.hash !== anchor.hash) {
    findings.add(anchor.id, 'the last entry differs from the anchored head');
  }
  const outside = await d1
    .prepare('SELECT min(id) AS id FROM audit_log WHERE id > ? AND hash IS NOT NULL')
    .bind(anchor.id)
    .first<{ id: number | null }>();
  if (outside?.id != null) findings.add(outside.id, 'entry has a hash the sealer did not write (after the anchored head)');
  const unsealed = await d1
    .prepare('SELECT count(*) AS n FROM audit_log WHERE id > ? AND hash IS NULL')
    .bind(anchor.id)
    .first<{ n: number }>();

  return {
    valid: findings.count === 0,
    checked,
    invalid: findings.count,
    unsealed: unsealed?.n ?? 0,
    first_invalid: findings.first,
    head: last,
    anchor,
    checkpoint: cp ? { upto_id: cp.upto_id, hash: cp.hash, removed: cp.removed, created_at: cp.created_at } : null,
  };
}

/** The one sealer object for the service. */
