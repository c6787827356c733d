import { eq, sql } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { loginChallenges, users } from '../db/schema';
import { intVar, secrets } from '../lib/config';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { enforceLimit, limiter } from '../lib/limits';
import { mfaEnabled, useSecondFactor, type SecondFactor } from './mfa';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';
import { createSession, type IssuedSession } from './sessions';
import { signAccessToken } from './tokens';
import { findUserByLogin, getUser, normalizeLogin, publicUser, type UserRow } from './users';
import { reachesBurst, recordSecurityEvent } from '../security';

/** Attempts per account and per client IP; the account counter resets on a successful login. */
export const LOGIN_ACCOUNT_POLICY = { name: 'login-account', limit: 10, windowSeconds: 900 };
export const LOGIN_IP_POLICY = { name: 'login-ip', limit: 100, windowSeconds: 900 };
/** Failures that make one `login_failure_burst` event: per account name, and per client IP. */
export const LOGIN_FAILURE_BURST = { account: { threshold: 5, windowSeconds: 900 }, ip: { threshold: 20, windowSeconds: 900 } };
/** A password check passed and the second factor is awaited for this long, for this many tries. */
export const CHALLENGE_TTL_SECONDS = 300;
export const CHALLENGE_MAX_ATTEMPTS = 5;
const CHALLENGE_PREFIX = 'dwcm_';

type Defer = (work: Promise<unknown>) => void;

const invalidCredentials = () => new ApiError('unauthorized', 'Invalid username or password');
const invalidChallenge = () => new ApiError('unauthorized', 'Invalid or expired sign-in challenge; sign in again');

export async function issueTokens(env: Env, user: UserRow, session: IssuedSession) {
  const ttl = intVar(env.ACCESS_TOKEN_TTL_SECONDS, 900);
  return {
    access_token: await signAccessToken(secrets(env).jwtSecret, user.id, session.sessionId, ttl),
    token_type: 'Bearer' as const,
    expires_in: ttl,
    refresh_token: session.refreshToken,
    refresh_expires_in: Math.max(0, Math.floor((session.refreshExpiresAt - Date.now()) / 1000)),
    user: publicUser(user),
  };
}

const startSession = (env: Env, db: DB, meta: RequestMeta, userId: number) =>
  createSession(db, { ...meta, actorUserId: userId }, userId, intVar(env.REFRESH_TOKEN_TTL_SECONDS, 2_592_000));

/**
 * Counts a failed password check toward the account's and the IP's bursts; the attempt that
 * reaches a threshold records one high-severity event for that window (the dedupe key names the
 * window, so a later burst is a new event). Awaited: it only delays a failure.
 */
async function noteLoginFailure(env: Env, db: DB, meta: RequestMeta, loginName: string, userId: number | null) {
  const subjects = [
    { key: `account:${loginName}`, ...LOGIN_FAILURE_BURST.account },
    ...(meta.ip ? [{ key: `ip:${meta.ip}`, ...LOGIN_FAILURE_BURST.ip }] : []),
  ];
  await Promise.all(
    subjects.map(async (s) => {
      const burst = await reachesBurst(env, `login-failure:${s.key}`, s.threshold, s.windowSeconds);
      if (!burst.reached) return;
      await recordSecurityEvent(env, db, {
        type: 'login_failure_burst',
        severity: 'high',
        userId,
        ip: meta.ip,
        dedupeKey: `login_failure_burst:${s.key}:${burst.windowStart}`,
        details: { subject: s.key, failures: s.threshold, window_seconds: s.windowSeconds },
      });
    }),
  );
}

/**
 * Password sign-in, shared by `/api/v3/auth/login` and the seeds' `/api/v3/security/auth/login`.
 * Without MFA it answers tokens; with MFA confirmed it answers a short-lived challenge that
 * `completeMfaSignIn` exchanges, with a code, for the tokens.
 */
export async function passwordSignIn(
  env: Env,
  db: DB,
  meta: RequestMeta,
  body: { username?: string | undefined; email?: string | undefined; password: string },
  defer: Defer,
) {
  const { pepper } = secrets(env);
  const loginName = normalizeLogin(body.username ?? body.email ?? '');
  const accountKey = `login:account:${loginName}`;
  try {
    // Without CF-Connecting-IP (local development, tests) only the per-account limit applies.
    await Promise.all([
      enforceLimit(env, accountKey, LOGIN_ACCOUNT_POLICY),
      meta.ip ? enforceLimit(env, `login:ip:${meta.ip}`, LOGIN_IP_POLICY) : undefined,
    ]);
  } catch (err) {
    if (err instanceof ApiError)
      await auditInsert(db, meta, { action: 'auth.login', outcome: 'failure', details: { login: loginName, reason: 'rate_limited' } });
    throw err;
  }

  const user = await findUserByLogin(db, loginName);
  // Unknown users are checked against a dummy hash so both failures cost the same PBKDF2 work.
  const verdict = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash(pepper)), pepper);
  if (!user || !verdict.ok) {
    await auditInsert(db, meta, {
      action: 'auth.login',
      outcome: 'failure',
      actorUserId: user?.id ?? null,
      details: { login: loginName, reason: 'invalid_credentials' },
    });
    await noteLoginFailure(env, db, meta, loginName, user?.id ?? null);
    throw invalidCredentials();
  }
  await limiter(env, accountKey).reset();
  if (user.status === 'pending') {
    // Only someone who knows the password learns that the account waits for its address.
    throw new ApiError('forbidden', 'Confirm your email address before signing in (the token was mailed to you)');
  }
  if (verdict.needsRehash) {
    const upgraded = await hashPassword(body.password, pepper);
    defer(db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, user.id)).run());
  }
  if (await mfaEnabled(db, user.id)) return createChallenge(db, meta, user.id);
  return issueTokens(env, user, await startSession(env, db, meta, user.id));
}

async function createChallenge(db: DB, meta: RequestMeta, userId: number) {
  const token = CHALLENGE_PREFIX + randomToken(32);
  await db.batch([
    db.insert(loginChallenges).values({ tokenHash: await sha256Hex(token), userId, expiresAt: Date.now() + CHALLENGE_TTL_SECONDS * 1000 }),
    auditInsert(db, meta, { action: 'auth.mfa_challenge', actorUserId: userId, targetType: 'user', targetId: userId }),
  ]);
  return { mfa_required: true as const, challenge_token: token, expires_in: CHALLENGE_TTL_SECONDS };
}

/**
 * The second half of an MFA sign-in. Each try is counted on the challenge first, with a
 * conditional UPDATE, so concurrent tries cannot exceed the limit; the challenge is consumed
 * the same way, so it yields at most one session.
 */
export async function completeMfaSignIn(env: Env, db: DB, meta: RequestMeta, body: SecondFactor & { challenge_token: string }) {
  const tokenHash = await sha256Hex(body.challenge_token);
  const now = Date.now();
  const [challenge] = await db.all<{ id: number; user_id: number }>(sql`UPDATE login_challenges SET attempts = attempts + 1
    WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > ${now} AND attempts < ${CHALLENGE_MAX_ATTEMPTS}
    RETURNING id, user_id`);
  if (!challenge) throw invalidChallenge();

  const userId = challenge.user_id;
  const method = await useSecondFactor(env, db, { ...meta, actorUserId: userId }, userId, body);
  if (!method) throw new ApiError('unauthorized', 'Invalid or already used code');

  const consumed = await db.all<{ id: number }>(
    sql`UPDATE login_challenges SET used_at = ${Date.now()} WHERE id = ${challenge.id} AND used_at IS NULL RETURNING id`,
  );
  const user = await getUser(db, userId);
  if (consumed.length === 0 || !user) throw invalidChallenge();
  return issueTokens(env, user, await startSession(env, db, meta, userId));
}
