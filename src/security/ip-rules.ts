import { and, count, desc, eq, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { apiKeys, ipRules } from '../db/schema';
import { ApiError, notFound } from '../lib/errors';
import { contains, parseAddress, parseCidr, type Address, type Cidr } from './cidr';
import { recordSecurityEvent } from './events';

export type IpRuleRow = typeof ipRules.$inferSelect;
export type IpAction = IpRuleRow['action'];
type Compiled = { action: IpAction; block: Cidr };

/** How long an isolate trusts its copy of the rules; the isolate that made a change drops it at once. */
export const IP_RULES_CACHE_TTL_MS = 10_000;
export const MAX_GLOBAL_RULES = 500;
export const MAX_RULES_PER_KEY = 50;
/** A blocked address records one `ip_blocked` event per scope and hour, not one per request. */
const EVENT_WINDOW_MS = 3_600_000;

const compile = (rows: Pick<IpRuleRow, 'action' | 'cidr'>[]): Compiled[] =>
  rows.flatMap((r) => {
    // Stored rules were normalised on the way in; one that no longer parses matches nothing.
    const block = parseCidr(r.cidr);
    return block ? [{ action: r.action, block }] : [];
  });

/**
 * Deny beats allow; when any allow rule exists, only addresses matching one are admitted. An
 * address that does not parse matches no rule, so it passes a deny list and fails an allow list.
 */
export function admits(rules: Compiled[], addr: Address | null): 'admitted' | 'denied' | 'not_allowed' {
  if (addr && rules.some((r) => r.action === 'deny' && contains(r.block, addr))) return 'denied';
  const allows = rules.filter((r) => r.action === 'allow');
  if (allows.length > 0 && !(addr && allows.some((r) => contains(r.block, addr)))) return 'not_allowed';
  return 'admitted';
}

/*
 * Per-isolate copy of every rule (global and per key), refreshed after the TTL. Holding all of
 * them keeps a key's check free of D1 reads; the caps above bound its size.
 */
let cache: { at: number; global: Compiled[]; byKey: Map<number, Compiled[]> } | null = null;

async function cachedRules(db: DB) {
  if (cache && Date.now() - cache.at < IP_RULES_CACHE_TTL_MS) return cache;
  const rows = await db.select({ action: ipRules.action, cidr: ipRules.cidr, apiKeyId: ipRules.apiKeyId }).from(ipRules).all();
  const byKey = new Map<number, Compiled[]>();
  for (const r of rows) if (r.apiKeyId !== null) byKey.set(r.apiKeyId, [...(byKey.get(r.apiKeyId) ?? []), ...compile([r])]);
  cache = { at: Date.now(), global: compile(rows.filter((r) => r.apiKeyId === null)), byKey };
  return cache;
}

export function invalidateIpRuleCache() {
  cache = null;
}

/** Dedupe keys already stored by this isolate: repeats skip the D1 insert the unique key would refuse. */
const recorded = new Set<string>();

async function blocked(
  env: Env,
  db: DB,
  ip: string,
  scope: string,
  userId: number | null,
  verdict: string,
  message: string,
): Promise<never> {
  const dedupeKey = `ip_blocked:${scope}:${ip}:${Math.floor(Date.now() / EVENT_WINDOW_MS) * EVENT_WINDOW_MS}`;
  if (!recorded.has(dedupeKey)) {
    if (recorded.size > 1000) recorded.clear();
    recorded.add(dedupeKey);
    await recordSecurityEvent(env, db, { type: 'ip_blocked', severity: 'medium', userId, ip, dedupeKey, details: { scope, verdict } });
  }
  throw new ApiError('forbidden', message);
}

/**
 * Applies the global rules (`key` null), or one API key's own rules, to the client address.
 * Requests without one (local tools, tests; Cloudflare always sets CF-Connecting-IP) are not
 * filtered. Throws 403 when refused. No I/O unless the per-isolate copy of the rules is stale.
 */
export async function enforceIpRules(env: Env, db: DB, ip: string | null, key: { apiKeyId: number; userId: number } | null): Promise<void> {
  if (!ip) return;
  const rules = await cachedRules(db);
  const applicable = key ? (rules.byKey.get(key.apiKeyId) ?? []) : rules.global;
  if (applicable.length === 0) return;
  const verdict = admits(applicable, parseAddress(ip));
  if (verdict === 'admitted') return;
  if (key) await blocked(env, db, ip, `api_key:${key.apiKeyId}`, key.userId, verdict, `This API key may not be used from ${ip}`);
  await blocked(
    env,
    db,
    ip,
    'global',
    null,
    verdict,
    `Requests from ${ip} are ${verdict === 'denied' ? 'blocked' : 'not on the allow list'}`,
  );
}

// ---- administration ------------------------------------------------------------------------

export type IpRuleInput = { action: IpAction; cidr: string; apiKeyId: number | null; note: string | null };

/**
 * A key the caller may attach rules to: any key for an admin, only their own otherwise. With
 * `live`, a revoked key is refused (409): a rule on it would protect nothing and suggest it works.
 */
export async function findKey(db: DB, keyId: number, ownerId?: number, opts: { live?: boolean } = {}) {
  const key = await db
    .select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, keyId), ownerId === undefined ? undefined : eq(apiKeys.userId, ownerId)))
    .get();
  if (!key) throw notFound('API key');
  if (opts.live && key.revokedAt !== null) throw new ApiError('conflict', 'This API key is revoked: it takes no new IP rules');
  return key;
}

export async function listIpRules(
  db: DB,
  filter: { scope: 'all' | 'global' | 'key'; apiKeyId?: number },
  limit: number,
  beforeId?: number,
) {
  const where: (SQL | undefined)[] = [beforeId ? lt(ipRules.id, beforeId) : undefined];
  if (filter.apiKeyId !== undefined) where.push(eq(ipRules.apiKeyId, filter.apiKeyId));
  else if (filter.scope === 'global') where.push(isNull(ipRules.apiKeyId));
  else if (filter.scope === 'key') where.push(isNotNull(ipRules.apiKeyId));
  return db
    .select()
    .from(ipRules)
    .where(and(...where))
    .orderBy(desc(ipRules.id))
    .limit(limit + 1)
    .all();
}

/**
 * Refuses a change to the global rules that would lock out the admin making it: the client
 * address of this very request must still be admitted by the rules as they would be.
 */
async function guardLockout(
  db: DB,
  ip: string | null,
  change: (rows: Pick<IpRuleRow, 'id' | 'action' | 'cidr'>[]) => Pick<IpRuleRow, 'id' | 'action' | 'cidr'>[],
) {
  if (!ip) return;
  const current = await db
    .select({ id: ipRules.id, action: ipRules.action, cidr: ipRules.cidr })
    .from(ipRules)
    .where(isNull(ipRules.apiKeyId))
    .all();
  const verdict = admits(compile(change(current)), parseAddress(ip));
  if (verdict !== 'admitted') {
    throw new ApiError(
      'conflict',
      `This change would block your own address ${ip} (${verdict === 'denied' ? 'a deny rule matches it' : 'the allow list would not include it'}); allow it first`,
      {
        details: { ip, verdict },
      },
    );
  }
}

export async function createIpRule(db: DB, meta: RequestMeta, input: IpRuleInput): Promise<IpRuleRow> {
  const scope = input.apiKeyId === null ? isNull(ipRules.apiKeyId) : eq(ipRules.apiKeyId, input.apiKeyId);
  const cap = input.apiKeyId === null ? MAX_GLOBAL_RULES : MAX_RULES_PER_KEY;
  const existing = await db.select({ n: count() }).from(ipRules).where(scope).get();
  if ((existing?.n ?? 0) >= cap)
    throw new ApiError('conflict', `At most ${cap} rules ${input.apiKeyId === null ? 'globally' : 'per API key'}; delete one first`);
  if (input.apiKeyId === null) await guardLockout(db, meta.ip, (rows) => [...rows, { id: 0, action: input.action, cidr: input.cidr }]);
  const [rows] = await db.batch([
    db
      .insert(ipRules)
      .values({ action: input.action, cidr: input.cidr, apiKeyId: input.apiKeyId, note: input.note, createdBy: meta.actorUserId })
      .returning(),
    auditInsert(db, meta, {
      action: 'ip_rule.create',
      targetType: 'ip_rule',
      targetId: sql`(SELECT CAST(max(id) AS TEXT) FROM ip_rules)`,
      details: { action: input.action, cidr: input.cidr, api_key_id: input.apiKeyId },
    }),
  ]);
  invalidateIpRuleCache();
  return rows[0]!;
}

/** Deletes rule `id`; `apiKeyId` confines it to that key's rules (the owner's endpoint). */
export async function deleteIpRule(db: DB, meta: RequestMeta, id: number, apiKeyId?: number): Promise<void> {
  const rule = await db
    .select()
    .from(ipRules)
    .where(and(eq(ipRules.id, id), apiKeyId === undefined ? undefined : eq(ipRules.apiKeyId, apiKeyId)))
    .get();
  if (!rule) throw notFound('IP rule');
  if (rule.apiKeyId === null) await guardLockout(db, meta.ip, (rows) => rows.filter((r) => r.id !== id));
  const [deleted] = await db.batch([
    db.delete(ipRules).where(eq(ipRules.id, id)).returning({ id: ipRules.id }),
    auditIfChanged(db, meta, {
      action: 'ip_rule.delete',
      targetType: 'ip_rule',
      targetId: id,
      details: { action: rule.action, cidr: rule.cidr, api_key_id: rule.apiKeyId },
    }),
  ]);
  if (deleted.length === 0) throw notFound('IP rule');
  invalidateIpRuleCache();
}
