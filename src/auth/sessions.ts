import { and, desc, eq, gt, isNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { preparedOnce, rawAll, rawRun, type DB } from '../db/client';
import { apiKeys, refreshTokens, sessions, users } from '../db/schema';
import { ApiError } from '../lib/errors';
import { randomToken, sha256Hex } from '../lib/crypto';
import { toIso, toIsoOrNull } from '../lib/time';

/*
 * Refresh tokens are opaque random strings; only their SHA-256 is stored. Each use rotates the
 * token, and every token of one login belongs to that login's session ("family"). Presenting a
 * token that was already exchanged means it leaked (or a client raced itself): the whole
 * session is revoked, so the thief's copy and the victim's newer one both stop working.
 */
export const REFRESH_PREFIX = 'dwcr_';

export type IssuedSession = { sessionId: string; refreshToken: string; refreshExpiresAt: number };

export async function createSession(db: DB, meta: RequestMeta, userId: number, ttlSeconds: number): Promise<IssuedSession> {
  const sessionId = crypto.randomUUID();
  const refreshToken = REFRESH_PREFIX + randomToken(32);
  const refreshExpiresAt = Date.now() + ttlSeconds * 1000;
  await db.batch([
    db.insert(sessions).values({
      id: sessionId,
      userId,
      expiresAt: refreshExpiresAt,
      lastUsedAt: Date.now(),
      authenticatedAt: Date.now(),
      ip: meta.ip,
      userAgent: meta.userAgent,
    }),
    db.insert(refreshTokens).values({ sessionId, tokenHash: await sha256Hex(refreshToken), expiresAt: refreshExpiresAt }),
    auditInsert(db, meta, { action: 'auth.login', actorUserId: userId, targetType: 'session', targetId: sessionId }),
  ]);
  return { sessionId, refreshToken, refreshExpiresAt };
}

export type RotateResult =
  | { ok: true; userId: number; sessionId: string; refreshToken: string; refreshExpiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'reused'; userId: number; sessionId: string };

export async function rotateRefreshToken(db: DB, meta: RequestMeta, presented: string): Promise<RotateResult> {
  const oldHash = await sha256Hex(presented);
  const refreshToken = REFRESH_PREFIX + randomToken(32);
  const newHash = await sha256Hex(refreshToken);
  const now = Date.now();

  // One batch = one transaction. The new token is inserted only if the old one is unused, unexpired
  // and its session alive; the old one is then marked used. Two concurrent exchanges of the same
  // token serialise in D1: the second finds it used and is treated as reuse.
  const [inserted] = await db.batch([
    rawAll<{ session_id: string; expires_at: number }>(
      db,
      sql`
      INSERT INTO refresh_tokens (session_id, token_hash, expires_at)
      SELECT rt.session_id, ${newHash}, s.expires_at
      FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
      WHERE rt.token_hash = ${oldHash} AND rt.used_at IS NULL AND rt.expires_at > ${now}
        AND s.revoked_at IS NULL AND s.expires_at > ${now}
      RETURNING session_id, expires_at`,
    ),
    rawRun(
      db,
      sql`UPDATE refresh_tokens SET used_at = ${now}
      WHERE token_hash = ${oldHash} AND used_at IS NULL
        AND EXISTS (SELECT 1 FROM refresh_tokens WHERE token_hash = ${newHash})`,
    ),
    rawRun(
      db,
      sql`UPDATE sessions SET last_used_at = ${now}
      WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ${newHash})`,
    ),
    rawRun(
      db,
      sql`INSERT INTO audit_log (action, outcome, target_type, target_id, actor_user_id, request_id, ip, user_agent)
      SELECT 'auth.refresh', 'success', 'session', s.id, s.user_id, ${meta.requestId}, ${meta.ip}, ${meta.userAgent}
      FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = ${newHash}`,
    ),
  ]);
  const row = inserted[0];
  if (row) {
    const session = await db.select({ userId: sessions.userId }).from(sessions).where(eq(sessions.id, row.session_id)).get();
    return { ok: true, userId: session!.userId, sessionId: row.session_id, refreshToken, refreshExpiresAt: row.expires_at };
  }

  const old = await db
    .select({ sessionId: refreshTokens.sessionId, usedAt: refreshTokens.usedAt, userId: sessions.userId, revokedAt: sessions.revokedAt })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, oldHash))
    .get();
  if (old?.usedAt != null) {
    await db.batch([
      db
        .update(sessions)
        .set({ revokedAt: now, revokedReason: 'refresh_token_reuse' })
        .where(and(eq(sessions.id, old.sessionId), isNull(sessions.revokedAt))),
      auditInsert(db, meta, {
        action: 'auth.refresh_reuse',
        outcome: 'failure',
        actorUserId: old.userId,
        targetType: 'session',
        targetId: old.sessionId,
        details: { session_revoked: true },
      }),
    ]);
    return { ok: false, reason: 'reused', userId: old.userId, sessionId: old.sessionId };
  }
  await auditInsert(db, meta, {
    action: 'auth.refresh',
    outcome: 'failure',
    actorUserId: old?.userId ?? null,
    details: { reason: 'invalid' },
  });
  return { ok: false, reason: 'invalid' };
}

/** Revokes one session (logout). Returns false when it was not the user's or already revoked. */
export async function revokeSession(db: DB, meta: RequestMeta, userId: number, sessionId: string, reason: string): Promise<boolean> {
  const [updated] = await db.batch([
    db
      .update(sessions)
      .set({ revokedAt: Date.now(), revokedReason: reason })
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id }),
    auditIfChanged(db, meta, { action: 'auth.logout', targetType: 'session', targetId: sessionId, details: { reason } }),
  ]);
  return updated.length > 0;
}

/** The user and session behind an access token, or undefined if either is gone or revoked. */
const sessionUserQuery = preparedOnce((db) =>
  db
    .select({ id: users.id, username: users.username, role: users.role, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sql.placeholder('sessionId')), eq(sessions.userId, sql.placeholder('userId'))))
    .prepare(),
);

export async function activeSessionUser(db: DB, userId: number, sessionId: string) {
  const now = Date.now();
  const row = await sessionUserQuery(db).get({ sessionId, userId });
  if (!row || row.revokedAt !== null || row.expiresAt <= now) return undefined;
  return row;
}

/*
 * Session ids are UUIDs, so listings page over SQLite's implicit rowid instead: it grows with
 * each insert, which makes it the same newest-first keyset the integer-keyed tables use.
 */
export async function listActiveSessions(db: DB, userId: number, limit: number, beforeRowid?: number) {
  const rowid = sql<number>`${sessions}.rowid`;
  return db
    .select({
      id: rowid,
      sessionId: sessions.id,
      createdAt: sessions.createdAt,
      lastUsedAt: sessions.lastUsedAt,
      expiresAt: sessions.expiresAt,
      ip: sessions.ip,
      userAgent: sessions.userAgent,
    })
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, Date.now()),
        beforeRowid ? lt(rowid, beforeRowid) : undefined,
      ),
    )
    .orderBy(desc(rowid))
    .limit(limit + 1)
    .all();
}

type SessionListRow = Awaited<ReturnType<typeof listActiveSessions>>[number];

/** The public form: no token material, only what lets a user recognise a device. */
export const publicSession = (currentSessionId: string | null) => (s: SessionListRow) => ({
  id: s.sessionId,
  current: s.sessionId === currentSessionId,
  created_at: toIso(s.createdAt),
  last_used_at: toIsoOrNull(s.lastUsedAt),
  expires_at: toIso(s.expiresAt),
  ip: s.ip,
  user_agent: s.userAgent,
});

/**
 * An UPDATE revoking the user's live sessions, to run inside a caller's batch; `except` keeps one
 * (the caller's own), `when` makes it conditional on an earlier statement of the batch.
 */
export function revokeSessionsStatement(db: DB, userId: number, reason: string, opts: { except?: string; when?: SQL } = {}) {
  return db
    .update(sessions)
    .set({ revokedAt: Date.now(), revokedReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), opts.except ? ne(sessions.id, opts.except) : undefined, opts.when))
    .returning({ id: sessions.id });
}

/**
 * Log out everywhere: every session of the user ends, the caller's included, and every API key
 * with them (a key made with a stolen session must not outlive the owner's response to the
 * theft); the owner is told about the keys (credentialsRevokedEvent). One batch.
 */
export async function revokeAllSessions(
  db: DB,
  meta: RequestMeta,
  userId: number,
): Promise<{ sessions_revoked: number; api_keys_revoked: number }> {
  const [revoked, , keys] = await db.batch([
    revokeSessionsStatement(db, userId, 'logout_all'),
    auditIfChanged(db, meta, { action: 'auth.logout_all', targetType: 'user', targetId: userId }),
    revokeApiKeysStatement(db, userId, 'logout_all'),
    credentialsRevokedEvent(db, userId, 'logout_all', meta.requestId),
  ]);
  return { sessions_revoked: revoked.length, api_keys_revoked: keys.length };
}

/** How long a sign-in or re-authentication counts as recent, for actions that mint credentials. */
export const REAUTH_WINDOW_SECONDS = 300;

/** When the user last proved a factor in this session, or null. */
export async function sessionAuthenticatedAt(db: DB, sessionId: string): Promise<number | null> {
  const row = await db.select({ at: sessions.authenticatedAt }).from(sessions).where(eq(sessions.id, sessionId)).get();
  return row?.at ?? null;
}

/** Records a re-authentication on the (live) session; returns the time recorded. */
export async function markReauthenticated(db: DB, meta: RequestMeta, userId: number, sessionId: string): Promise<number> {
  const now = Date.now();
  await db.batch([
    db
      .update(sessions)
      .set({ authenticatedAt: now })
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt))),
    auditIfChanged(db, meta, { action: 'auth.reauthenticate', targetType: 'session', targetId: sessionId }),
  ]);
  return now;
}

/**
 * Refuses (403, with what to do) when the session has not proved a factor within
 * REAUTH_WINDOW_SECONDS: a stolen access token must not be enough to mint a long-lived credential.
 */
export async function requireRecentAuthentication(db: DB, sessionId: string): Promise<void> {
  const at = await sessionAuthenticatedAt(db, sessionId);
  if (at !== null && Date.now() - at <= REAUTH_WINDOW_SECONDS * 1000) return;
  throw new ApiError(
    'forbidden',
    `This needs a recent sign-in: re-authenticate (POST /api/v3/auth/reauthenticate) and try again within ${REAUTH_WINDOW_SECONDS / 60} minutes`,
    {
      details: {
        reason: 'reauthentication_required',
        reauthenticate: 'POST /api/v3/auth/reauthenticate',
        window_seconds: REAUTH_WINDOW_SECONDS,
      },
    },
  );
}

/**
 * An UPDATE revoking every live API key of the user, for a caller's batch (`when`: conditional
 * on an earlier statement). Revoked, not suspended: a key is a bearer secret that may have been
 * copied, so a new one is made after the owner has looked at what happened.
 */
export function revokeApiKeysStatement(db: DB, userId: number, reason: string, when?: SQL) {
  return db
    .update(apiKeys)
    .set({ revokedAt: Date.now(), revokedReason: reason })
    .where(and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt), when))
    .returning({ id: apiKeys.id });
}

/**
 * The domain event telling the owner their API keys were revoked, inserted only if the statement
 * just before it in the batch (the revocation) changed rows; the notifications subscriber turns
 * it into an in-app notice and, if the service can send email, a mail.
 */
export function credentialsRevokedEvent(db: DB, userId: number, reason: string, requestId: string) {
  const id = `api_keys_revoked:${userId}:${requestId}`;
  return rawRun(
    db,
    sql`INSERT INTO event_outbox (event_id, body)
    SELECT ${id}, json_object('id', ${id}, 'type', 'account.credentials_revoked', 'ownerId', ${userId}, 'at', ${Date.now()},
      'data', json_object('reason', ${reason}, 'api_keys_revoked', changes()), 'effectRef', NULL)
    WHERE changes() > 0`,
  );
}
