import { and, desc, eq, gt, isNull, lt, ne, sql, type SQL } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { preparedOnce, rawAll, rawRun, type DB } from '../db/client';
import { refreshTokens, sessions, users } from '../db/schema';
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
    db
      .insert(sessions)
      .values({ id: sessionId, userId, expiresAt: refreshExpiresAt, lastUsedAt: Date.now(), ip: meta.ip, userAgent: meta.userAgent }),
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

/** Log out everywhere: every session of the user ends, the caller's included. Returns how many. */
export async function revokeAllSessions(db: DB, meta: RequestMeta, userId: number): Promise<number> {
  const [revoked] = await db.batch([
    revokeSessionsStatement(db, userId, 'logout_all'),
    auditIfChanged(db, meta, { action: 'auth.logout_all', targetType: 'user', targetId: userId }),
  ]);
  return revoked.length;
}
