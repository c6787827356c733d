import { z } from '@hono/zod-openapi';
import { and, desc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { apiKeys, users } from '../db/schema';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { SCOPES, type Scope } from '../lib/access';
import { toIso, toIsoOrNull } from '../lib/time';
import { cached, type CacheScope } from '../cache';
import { trackApiKeyUse } from '../analytics';

/*
 * Keys look like `dwc_<43 base64url chars>`: the prefix makes a leaked key recognisable to
 * secret scanners and to `authenticate()`, which tells keys from JWTs by it. Keys carry 256 bits
 * of entropy, so a plain SHA-256 (not a slow password hash) is the right thing to store.
 */
export const API_KEY_PREFIX = 'dwc_';
const DISPLAY_PREFIX_LENGTH = 12;
const LAST_USED_RESOLUTION_MS = 60_000;

export type ApiKeyRow = typeof apiKeys.$inferSelect;

const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

export function publicApiKey(k: ApiKeyRow) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes.filter(isScope),
    created_at: toIso(k.createdAt),
    expires_at: toIsoOrNull(k.expiresAt),
    last_used_at: toIsoOrNull(k.lastUsedAt),
    revoked_at: toIsoOrNull(k.revokedAt),
  };
}

export async function createApiKey(
  db: DB,
  meta: RequestMeta,
  userId: number,
  input: { name: string; scopes: Scope[]; expires_in_days?: number | undefined },
): Promise<{ key: string; row: ApiKeyRow }> {
  const key = API_KEY_PREFIX + randomToken(32);
  const expiresAt = input.expires_in_days ? Date.now() + input.expires_in_days * 86_400_000 : null;
  const [inserted] = await db.batch([
    db
      .insert(apiKeys)
      .values({
        userId,
        name: input.name,
        prefix: key.slice(0, DISPLAY_PREFIX_LENGTH),
        keyHash: await sha256Hex(key),
        scopes: [...new Set(input.scopes)],
        expiresAt,
      })
      .returning(),
    auditInsert(db, meta, { action: 'api_key.create', targetType: 'api_key', details: { name: input.name, scopes: input.scopes } }),
  ]);
  return { key, row: inserted[0]! };
}

export async function listApiKeys(db: DB, userId: number, limit: number, beforeId?: number): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.userId, userId), beforeId ? lt(apiKeys.id, beforeId) : undefined))
    .orderBy(desc(apiKeys.id))
    .limit(limit + 1)
    .all();
}

export async function revokeApiKey(db: DB, meta: RequestMeta, userId: number, id: number): Promise<void> {
  const [updated] = await db.batch([
    db
      .update(apiKeys)
      .set({ revokedAt: Date.now() })
      .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id }),
    auditIfChanged(db, meta, { action: 'api_key.revoke', targetType: 'api_key', targetId: id }),
  ]);
  // Another user's key, an unknown id and an already revoked key all answer alike.
  if (updated.length === 0) throw new ApiError('not_found', 'API key not found');
}

const INVALID = 'invalid' as const;

/**
 * Resolves a presented key to its owner, or undefined if unknown, revoked or expired. Only the
 * negative answer is cached (namespace `apikey`, src/cache/namespaces.ts): unknown, revoked and
 * expired are final states, while a key that resolves may be revoked, or its owner demoted, at
 * any moment, so it is read from D1 on every request and a revocation applies to the next one.
 */
export async function resolveApiKey(db: DB, key: string, cache?: CacheScope) {
  const hash = await sha256Hex(key);
  const lookup = () =>
    db
      .select({
        keyId: apiKeys.id,
        scopes: apiKeys.scopes,
        lastUsedAt: apiKeys.lastUsedAt,
        userId: users.id,
        username: users.username,
        role: users.role,
      })
      .from(apiKeys)
      .innerJoin(users, eq(users.id, apiKeys.userId))
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, Date.now()))))
      .get()
      .then((row) => (row ? { ...row, scopes: row.scopes.filter(isScope) } : INVALID));
  const found = cache
    ? await cached(cache, 'apikey', hash, lookup, { schema: z.literal(INVALID), store: (v) => v === INVALID })
    : await lookup();
  return found === INVALID ? undefined : found;
}

/** A live key by id (a WebSocket ticket names its key): its owner and scopes, as `resolveApiKey` gives them. */
export async function liveApiKey(db: DB, keyId: number) {
  const row = await db
    .select({
      keyId: apiKeys.id,
      scopes: apiKeys.scopes,
      lastUsedAt: apiKeys.lastUsedAt,
      userId: users.id,
      username: users.username,
      role: users.role,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, Date.now()))))
    .get();
  return row ? { ...row, scopes: row.scopes.filter(isScope) } : undefined;
}

/** `last_used_at` is kept to the minute so that a busy key does not write on every request. */
export async function touchApiKey(db: DB, keyId: number, lastUsedAt: number | null): Promise<void> {
  const now = Date.now();
  if (lastUsedAt !== null && now - lastUsedAt < LAST_USED_RESOLUTION_MS) return;
  await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId));
  await trackApiKeyUse(db, keyId, now);
}
