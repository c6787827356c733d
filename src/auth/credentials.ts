import { and, eq, sql } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { rawAll, rawRun, type DB } from '../db/client';
import { passwordResetTokens, users } from '../db/schema';
import { isDevelopment, secrets } from '../lib/config';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError, invalidField } from '../lib/errors';
import { enforceLimit, limiter } from '../lib/limits';
import { log } from '../lib/log';
import { hashPassword, verifyPassword } from './passwords';
import { credentialsRevokedEvent, markReauthenticated, revokeApiKeysStatement, revokeSessionsStatement } from './sessions';
import { invalidCode, mfaEnabled, useSecondFactor } from './mfa';
import { assertStrongPassword, findUserByLogin, getUser, normalizeLogin, type UserRow } from './users';
import { recordSecurityEvent } from '../security';

/** Password checks by a signed-in user (change password, disable MFA), per account. */
export const PASSWORD_CHECK_POLICY = { name: 'password-check', limit: 10, windowSeconds: 900 };
/** Reset requests per submitted name (so unknown names are limited alike) and per client IP. */
export const RESET_ACCOUNT_POLICY = { name: 'password-reset-account', limit: 5, windowSeconds: 3600 };
export const RESET_IP_POLICY = { name: 'password-reset-ip', limit: 20, windowSeconds: 3600 };
export const RESET_TOKEN_TTL_SECONDS = 1800;
const RESET_PREFIX = 'dwcp_';

// Each new hash has a fresh salt, so "the user now has this hash" identifies one request's write.
const hasHash = (userId: number, hash: string) => sql`EXISTS (SELECT 1 FROM users WHERE id = ${userId} AND password_hash = ${hash})`;

/**
 * Re-checks the signed-in user's password before a sensitive change. Limited per account, so a
 * stolen access token cannot be used to guess the password.
 */
export async function confirmPassword(env: Env, db: DB, meta: RequestMeta, user: UserRow, password: string, field: string): Promise<void> {
  const key = `password-check:${user.id}`;
  await enforceLimit(env, key, PASSWORD_CHECK_POLICY);
  const { pepper } = secrets(env);
  if (!(await verifyPassword(password, user.passwordHash, pepper)).ok) {
    await auditInsert(db, meta, { action: 'auth.password_check', outcome: 'failure', targetType: 'user', targetId: user.id });
    throw new ApiError('validation_error', 'The password is not correct', {
      details: [{ path: [field], code: 'incorrect_password', message: 'not correct' }],
    });
  }
  await limiter(env, key).reset();
}

/**
 * Changes the password of a signed-in user and ends every other session of theirs (a thief's
 * included) and every outstanding reset token; the session making the change stays. The UPDATE is conditional on the hash that
 * was verified, so of two concurrent changes only one applies.
 */
export async function changePassword(
  env: Env,
  db: DB,
  meta: RequestMeta,
  userId: number,
  currentSessionId: string,
  input: { current_password: string; new_password: string },
) {
  const user = await getUser(db, userId);
  if (!user) throw new ApiError('unauthorized', 'User no longer exists');
  await confirmPassword(env, db, meta, user, input.current_password, 'current_password');
  if (input.new_password === input.current_password) {
    throw new ApiError('validation_error', 'The new password must differ from the current one', {
      details: [{ path: ['new_password'], code: 'unchanged', message: 'same as the current password' }],
    });
  }
  assertStrongPassword(input.new_password, user, 'new_password');
  const newHash = await hashPassword(input.new_password, secrets(env).pepper);
  const now = Date.now();
  const [updated, , revoked] = await db.batch([
    db
      .update(users)
      .set({ passwordHash: newHash, passwordChangedAt: now, updatedAt: now })
      .where(and(eq(users.id, userId), eq(users.passwordHash, user.passwordHash)))
      .returning({ id: users.id }),
    auditIfChanged(db, meta, { action: 'auth.password_change', targetType: 'user', targetId: userId }),
    revokeSessionsStatement(db, userId, 'password_changed', { except: currentSessionId, when: hasHash(userId, newHash) }),
    // A reset token requested before the change must not undo it.
    rawRun(
      db,
      sql`UPDATE password_reset_tokens SET used_at = ${now} WHERE user_id = ${userId} AND used_at IS NULL AND ${hasHash(userId, newHash)}`,
    ),
  ]);
  if (updated.length === 0) throw new ApiError('conflict', 'The password was changed by another request; sign in again');
  await recordSecurityEvent(env, db, {
    type: 'password_changed',
    severity: 'low',
    userId,
    ip: meta.ip,
    details: { via: 'change', sessions_revoked: revoked.length },
  });
  return { sessions_revoked: revoked.length };
}

/** A single-use reset token for a user; only its SHA-256 is stored. Returned for delivery. */
export async function createPasswordResetToken(db: DB, meta: RequestMeta, userId: number): Promise<{ token: string; expiresAt: number }> {
  const token = RESET_PREFIX + randomToken(32);
  const expiresAt = Date.now() + RESET_TOKEN_TTL_SECONDS * 1000;
  await db.batch([
    db.insert(passwordResetTokens).values({ tokenHash: await sha256Hex(token), userId, expiresAt, ip: meta.ip }),
    auditInsert(db, meta, { action: 'auth.password_reset_request', actorUserId: userId, targetType: 'user', targetId: userId }),
  ]);
  return { token, expiresAt };
}

/**
 * Sends mail the service itself writes (not a user's notification): src/notifications provides
 * it, through the service-wide email configuration; the route passes it in.
 */
export type SystemMailer = (env: Env, db: DB, to: string, subject: string, body: string) => Promise<boolean>;

/** The system mailer, and whether the deployment has any email configuration for it to send with. */
export type SystemMail = { send: SystemMailer; configured(env: Env, db: DB): Promise<boolean> };

/**
 * Sends the reset token to the account's email address through the system mailer (not stored,
 * one attempt). In development the token is also logged, so local development needs no mail
 * setup; anywhere else it never is, because logging a live credential would hand it to anyone
 * who can read the logs.
 */
async function deliverPasswordResetToken(
  env: Env,
  db: DB,
  mail: SystemMail,
  user: UserRow,
  token: string,
  expiresAt: number,
): Promise<void> {
  if (isDevelopment(env)) {
    log(env.LOG_LEVEL, 'info', 'password reset token (development delivery)', {
      user_id: user.id,
      token,
      expires_at: new Date(expiresAt).toISOString(),
    });
  }
  const minutes = Math.round((expiresAt - Date.now()) / 60_000);
  await mail.send(
    env,
    db,
    user.email,
    'Reset your password',
    `Someone asked to reset the password of ${user.username}. If it was you, use this token with POST /api/v3/auth/password/reset within ${minutes} minutes:\n\n${token}\n\nIf it was not you, ignore this message: your password stays as it is.`,
  );
}

/**
 * "Forgot password". The caller answers the same 202 whatever happens here, and the work on an
 * existing account (a write and a delivery) runs after the answer, so neither the body nor the
 * timing says whether the account exists.
 */
export async function requestPasswordReset(
  env: Env,
  db: DB,
  meta: RequestMeta,
  login: string,
  defer: (p: Promise<unknown>) => void,
  mail: SystemMail,
) {
  const name = normalizeLogin(login);
  await Promise.all([
    enforceLimit(env, `password-reset:account:${name}`, RESET_ACCOUNT_POLICY),
    meta.ip ? enforceLimit(env, `password-reset:ip:${meta.ip}`, RESET_IP_POLICY) : undefined,
  ]);
  const work = async () => {
    const user = await findUserByLogin(db, name);
    if (!user) return;
    const { token, expiresAt } = await createPasswordResetToken(db, meta, user.id);
    await deliverPasswordResetToken(env, db, mail, user, token, expiresAt);
    await recordSecurityEvent(env, db, { type: 'password_reset_requested', severity: 'low', userId: user.id, ip: meta.ip });
  };
  defer(
    work().catch((err) => log(env.LOG_LEVEL, 'error', 'password reset request failed', { requestId: meta.requestId, error: String(err) })),
  );
}

const invalidResetToken = () =>
  new ApiError('validation_error', 'Invalid, expired or already used reset token', {
    details: [{ path: ['token'], code: 'invalid_token', message: 'invalid, expired or used' }],
  });

/**
 * Sets a new password with a reset token. The first statement of the batch both checks the token
 * and writes the password, so of two concurrent uses only one finds it unused; the rest of the
 * batch applies only if that write was this request's. Every session of the user ends, and every
 * other outstanding reset token with them.
 */
export async function resetPassword(env: Env, db: DB, meta: RequestMeta, input: { token: string; new_password: string }) {
  const tokenHash = await sha256Hex(input.token);
  const now = Date.now();
  const live = sql`SELECT user_id FROM password_reset_tokens WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > ${now}`;
  const [row] = await db.all<{ user_id: number }>(live);
  const user = row && (await getUser(db, row.user_id));
  if (!user) throw invalidResetToken();
  assertStrongPassword(input.new_password, user, 'new_password');
  const newHash = await hashPassword(input.new_password, secrets(env).pepper);
  const won = hasHash(user.id, newHash);
  const [updated, , , revoked, keys] = await db.batch([
    rawAll<{ id: number }>(
      db,
      sql`UPDATE users SET password_hash = ${newHash}, password_changed_at = ${now}, updated_at = ${now}
      WHERE id = ${user.id} AND id = (${live}) RETURNING id`,
    ),
    auditIfChanged(db, meta, { action: 'auth.password_reset', actorUserId: user.id, targetType: 'user', targetId: user.id }),
    rawRun(db, sql`UPDATE password_reset_tokens SET used_at = ${now} WHERE user_id = ${user.id} AND used_at IS NULL AND ${won}`),
    revokeSessionsStatement(db, user.id, 'password_reset', { when: won }),
    // A reset means the password may have been known to someone else: so may any key made with it.
    revokeApiKeysStatement(db, user.id, 'password_reset', won),
    credentialsRevokedEvent(db, user.id, 'password_reset', meta.requestId),
  ]);
  if (updated.length === 0) throw invalidResetToken();
  await recordSecurityEvent(env, db, {
    type: 'password_changed',
    severity: 'low',
    userId: user.id,
    ip: meta.ip,
    details: { via: 'reset', sessions_revoked: revoked.length, api_keys_revoked: keys.length },
  });
  return { sessions_revoked: revoked.length, api_keys_revoked: keys.length };
}

/**
 * Re-authentication of a signed-in session: the password, or (MFA enabled) a current code or a
 * recovery code, each with its usual per-account limits. Records the time on the session.
 */
export async function reauthenticate(
  env: Env,
  db: DB,
  meta: RequestMeta,
  userId: number,
  sessionId: string,
  input: { password?: string | undefined; code?: string | undefined; recovery_code?: string | undefined },
): Promise<number> {
  const user = await getUser(db, userId);
  if (!user) throw new ApiError('unauthorized', 'User no longer exists');
  if (input.password !== undefined) await confirmPassword(env, db, meta, user, input.password, 'password');
  else {
    if (!(await mfaEnabled(db, userId))) throw invalidField(['code'], 'MFA is not enabled: re-authenticate with your password');
    if (!(await useSecondFactor(env, db, meta, userId, input))) throw invalidCode();
  }
  return markReauthenticated(db, meta, userId, sessionId);
}
