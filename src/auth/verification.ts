import { sql } from 'drizzle-orm';
import { auditIfChanged, type RequestMeta } from '../lib/audit';
import { rawAll, type DB } from '../db/client';
import { emailVerifications } from '../db/schema';
import { isDevelopment } from '../lib/config';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { enforceLimit } from '../lib/limits';
import { log } from '../lib/log';
import type { SystemMail } from './credentials';
import type { UserRow } from './users';

/*
 * Email verification: a single-use token mailed to the address, proving its owner reads it. A
 * `pending` account (open registration with verification) becomes `active` with it; any account
 * gets `email_verified_at`, which is what lets the service's own email sender write to the
 * address (src/notifications: the service sender reaches verified addresses only).
 */
export const VERIFICATION_TTL_SECONDS = 24 * 3600;
/** Verification mails a signed-in user may ask for. */
export const VERIFY_REQUEST_POLICY = { name: 'email-verification', limit: 5, windowSeconds: 3600 };
const PREFIX = 'dwcv_';

/**
 * Stores a new token for the user's current address and mails it (one attempt, not stored: the
 * body carries a live credential). In development the token is also logged, as reset tokens are,
 * so a local setup needs no mail provider.
 */
export async function startEmailVerification(env: Env, db: DB, meta: RequestMeta, user: UserRow, mail: SystemMail): Promise<void> {
  const token = PREFIX + randomToken(32);
  const expiresAt = Date.now() + VERIFICATION_TTL_SECONDS * 1000;
  await db.insert(emailVerifications).values({ tokenHash: await sha256Hex(token), userId: user.id, email: user.email, expiresAt });
  if (isDevelopment(env))
    log(env.LOG_LEVEL, 'info', 'email verification token (development delivery)', { requestId: meta.requestId, user_id: user.id, token });
  await mail.send(
    env,
    db,
    user.email,
    'Confirm your email address',
    `Confirm that ${user.email} belongs to the account ${user.username}: send this token to POST /api/v3/auth/email/verify within 24 hours.\n\n${token}\n\nIf you did not ask for this, ignore this message.`,
  );
}

/** A signed-in user's request for a (new) verification mail; 409 when the address is already verified. */
export async function requestEmailVerification(env: Env, db: DB, meta: RequestMeta, user: UserRow, mail: SystemMail): Promise<void> {
  if (user.emailVerifiedAt !== null) throw new ApiError('conflict', 'Your email address is already verified');
  await enforceLimit(env, `email-verification:${user.id}`, VERIFY_REQUEST_POLICY);
  if (!(await mail.configured(env, db))) throw new ApiError('service_unavailable', 'This service has no email configuration to send with');
  await startEmailVerification(env, db, meta, user, mail);
}

/**
 * Confirms an address with a token. The token is consumed first, and the account updated only
 * if that consumption was this request's (`changes()`) and the account still has the address the
 * token was sent to, in one batch.
 */
export async function confirmEmail(db: DB, meta: RequestMeta, token: string): Promise<void> {
  const hash = await sha256Hex(token);
  const now = Date.now();
  const [consumed] = await db.batch([
    rawAll<{ user_id: number }>(
      db,
      sql`UPDATE email_verifications SET used_at = ${now}
      WHERE token_hash = ${hash} AND used_at IS NULL AND expires_at > ${now} RETURNING user_id`,
    ),
    rawAll(
      db,
      sql`UPDATE users SET email_verified_at = ${now}, status = 'active', updated_at = ${now}
      WHERE changes() > 0 AND (id, email) = (SELECT user_id, email FROM email_verifications WHERE token_hash = ${hash})`,
    ),
    auditIfChanged(db, meta, {
      action: 'auth.email_verified',
      targetType: 'user',
      targetId: sql`(SELECT CAST(user_id AS TEXT) FROM email_verifications WHERE token_hash = ${hash})`,
      actorUserId: sql`(SELECT user_id FROM email_verifications WHERE token_hash = ${hash})`,
    }),
  ]);
  if (consumed.length === 0) {
    throw new ApiError('validation_error', 'Invalid, expired or already used verification token', {
      details: [{ path: ['token'], code: 'invalid_token', message: 'invalid, expired or used' }],
    });
  }
}
