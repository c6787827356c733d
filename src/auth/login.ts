import { eq, sql } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { loginChallenges, users } from '../db/schema';
import { intVar, secrets } from '../lib/config';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { enforceLimit, enforceLockout, limiter } from '../lib/limits';
import { mfaEnabled, useSecondFactor, type SecondFactor } from './mfa';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';
import { createSession, type IssuedSession } from './sessions';
import { signAccessToken } from './tokens';
import { findUserByLogin, getUser, normalizeLogin, publicUser, type UserRow } from './users';
import { ipSubject, reachesBurst, recordSecurityEvent } from '../security';
import { issueDeviceToken, knownDevice } from './devices';

/*
 * Sign-in attempts are counted so that nobody can lock the rightful owner out (the old counter,
 * keyed on the typed name, let ten wrong passwords from anywhere lock the account for everyone,
 * and the email spelling had ten more of its own). Counters are keyed by the resolved account:
 *   - from a known device (a valid device token, src/auth/devices.ts): that device's own counter;
 *   - from anywhere else: the account together with the client's IP (IPv6 per /64), and an
 *     account-wide counter for unknown devices, which only a distributed guess fills;
 *   - every client IP, whatever account it tries.
 * A full counter locks for one window, then twice as long for each further lock within a day
 * (15 min, 30 min, 1 h … 24 h). A successful sign-in clears the counter it used. The 429 names
 * the policy that refused it in RateLimit-Policy.
 */
const lockout = (name: string, limit: number) => ({ name, limit, windowSeconds: 900, maxLockSeconds: 86_400, memorySeconds: 86_400 });
export const LOGIN_DEVICE_POLICY = lockout('login-device', 10);
export const LOGIN_ACCOUNT_IP_POLICY = lockout('login-account-ip', 10);
export const LOGIN_ACCOUNT_POLICY = lockout('login-account', 50);
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

/** Tokens for a completed sign-in, with a device token (the device keeps its id when it presented one). */
async function signedIn(env: Env, user: UserRow, session: IssuedSession, deviceId: string | null) {
  const tokens = await issueTokens(env, user, session);
  return { ...tokens, device_token: await issueDeviceToken(secrets(env).jwtSecret, user.id, deviceId ?? undefined) };
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
  body: { username?: string | undefined; email?: string | undefined; password: string; device_token?: string | undefined },
  defer: Defer,
) {
  const { pepper, jwtSecret } = secrets(env);
  const loginName = normalizeLogin(body.username ?? body.email ?? '');
  // Without CF-Connecting-IP (local development, tests) the per-IP limit does not apply and the
  // account is counted with the placeholder address "-".
  const ipLimit = meta.ip ? enforceLimit(env, `login:ip:${meta.ip}`, LOGIN_IP_POLICY) : undefined;
  ipLimit?.catch(() => undefined);
  const user = await findUserByLogin(db, loginName);
  const account = user ? `user:${user.id}` : `name:${loginName}`;
  const device = user ? await knownDevice(jwtSecret, body.device_token, user) : null;
  const key = device ? `login:device:${device}` : `login:account-ip:${account}:${meta.ip ? ipSubject(meta.ip).id : '-'}`;
  try {
    await ipLimit;
    await enforceLockout(env, key, device ? LOGIN_DEVICE_POLICY : LOGIN_ACCOUNT_IP_POLICY);
    if (!device) await enforceLockout(env, `login:account:${account}`, LOGIN_ACCOUNT_POLICY);
  } catch (err) {
    if (err instanceof ApiError)
      await auditInsert(db, meta, {
        action: 'auth.login',
        outcome: 'failure',
        actorUserId: user?.id ?? null,
        details: { login: loginName, reason: 'rate_limited', known_device: device !== null },
      });
    throw err;
  }

  // Unknown users are checked against a dummy hash so both failures cost the same PBKDF2 work.
  const verdict = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash(pepper)), pepper);
  if (!user || !verdict.ok) {
    await auditInsert(db, meta, {
      action: 'auth.login',
      outcome: 'failure',
      actorUserId: user?.id ?? null,
      details: { login: loginName, reason: 'invalid_credentials' },
    });
    // One burst per account whichever spelling was typed: named by the username when it exists.
    await noteLoginFailure(env, db, meta, user?.username ?? loginName, user?.id ?? null);
    throw invalidCredentials();
  }
  await limiter(env, key).reset();
  if (user.status === 'pending') {
    // Only someone who knows the password learns that the account waits for its address.
    throw new ApiError('forbidden', 'Confirm your email address before signing in (the token was mailed to you)');
  }
  if (verdict.needsRehash) {
    const upgraded = await hashPassword(body.password, pepper);
    defer(db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, user.id)).run());
  }
  if (await mfaEnabled(db, user.id)) return createChallenge(db, meta, user.id);
  return signedIn(env, user, await startSession(env, db, meta, user.id), device);
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
export async function completeMfaSignIn(
  env: Env,
  db: DB,
  meta: RequestMeta,
  body: SecondFactor & { challenge_token: string; device_token?: string | undefined },
) {
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
  const device = await knownDevice(secrets(env).jwtSecret, body.device_token, user);
  return signedIn(env, user, await startSession(env, db, meta, userId), device);
}
