import { and, count, eq, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import { renderSVG } from 'uqr';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { rawAll, rawRun, type DB } from '../db/client';
import { mfaRecoveryCodes, userMfa } from '../db/schema';
import { sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { enforceLimit, limiter } from '../lib/limits';
import { toIsoOrNull } from '../lib/time';
import { openFor, sealFor } from '../lib/encryption';
import { revokeSessionsStatement } from './sessions';
import { reachesBurst, recordSecurityEvent, base32Encode, newTotpSecret, otpauthUri, verifyTotp } from '../security';

/*
 * TOTP second factor. The secret is sealed with AES-GCM bound to `user_mfa:<user id>:secret`, so
 * the database alone never reveals it and a sealed value copied to another user does not open.
 * "Accepted once" is enforced by D1, not by the reader: the step of the accepted code is written
 * with a conditional UPDATE (`last_step < step`), and D1 serialises writes, so two requests
 * racing with one code cannot both see their update succeed. Recovery codes work the same way
 * (`used_at IS NULL`).
 */
export const MFA_ISSUER = 'Document Workflow Chain';
export const RECOVERY_CODE_COUNT = 10;

/** Code attempts per account and per client IP, whatever endpoint they come through. */
export const MFA_ACCOUNT_POLICY = { name: 'mfa-account', limit: 10, windowSeconds: 900 };
export const MFA_IP_POLICY = { name: 'mfa-ip', limit: 100, windowSeconds: 900 };
/** Wrong codes for one account within the window that make one `mfa_failure` event. */
export const MFA_FAILURE_BURST = { threshold: 5, windowSeconds: 900 };

export type SecondFactor = { code?: string | undefined; recovery_code?: string | undefined };

/** A wrong TOTP or recovery code from a signed-in user: a field error, not a lost session. */
export const invalidCode = () =>
  new ApiError('validation_error', 'Invalid or already used code', {
    details: [{ path: ['code'], code: 'invalid_code', message: 'invalid or already used code' }],
  });

export async function mfaStatus(db: DB, userId: number) {
  const row = await db.select().from(userMfa).where(eq(userMfa.userId, userId)).get();
  const remaining = await db
    .select({ n: count() })
    .from(mfaRecoveryCodes)
    .where(and(eq(mfaRecoveryCodes.userId, userId), isNull(mfaRecoveryCodes.usedAt)))
    .get();
  return {
    enabled: row?.confirmedAt != null,
    pending: row !== undefined && row.confirmedAt === null,
    enabled_at: toIsoOrNull(row?.confirmedAt),
    recovery_codes_remaining: row?.confirmedAt != null ? (remaining?.n ?? 0) : 0,
  };
}

export async function mfaEnabled(db: DB, userId: number): Promise<boolean> {
  const row = await db
    .select({ userId: userMfa.userId })
    .from(userMfa)
    .where(and(eq(userMfa.userId, userId), isNotNull(userMfa.confirmedAt)))
    .get();
  return row !== undefined;
}

/** The otpauth URI as an SVG QR code in a data URL, so a client can show it as an <img>. */
export function qrDataUrl(text: string): string {
  // ECC level M survives a smudged or partly covered screen; the URI fits a version 6–8 code.
  const svg = renderSVG(text, { ecc: 'M', border: 2, pixelSize: 4 });
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}

/**
 * Starts (or restarts) enrolment with a new secret. Refused while MFA is enabled: replacing a
 * confirmed secret would be a way around the second factor. The row stays unconfirmed, and MFA
 * unenforced, until `confirmEnrollment` receives a code from it.
 */
export async function startEnrollment(env: Env, db: DB, meta: RequestMeta, user: { id: number; username: string }) {
  const secret = newTotpSecret();
  const secretEnc = await sealFor(env, 'user_mfa', user.id, 'secret', secret);
  const [upserted] = await db.batch([
    db
      .insert(userMfa)
      .values({ userId: user.id, secretEnc })
      .onConflictDoUpdate({
        target: userMfa.userId,
        set: { secretEnc, lastStep: null, createdAt: Date.now() },
        setWhere: isNull(userMfa.confirmedAt),
      })
      .returning({ userId: userMfa.userId }),
    auditIfChanged(db, meta, { action: 'mfa.enroll', targetType: 'user', targetId: user.id }),
  ]);
  if (upserted.length === 0) throw new ApiError('conflict', 'MFA is already enabled; disable it before enrolling again');
  const uri = otpauthUri(secret, user.username, MFA_ISSUER);
  return { secret, otpauth_uri: uri, qr_svg: qrDataUrl(uri), algorithm: 'SHA1' as const, digits: 6 as const, period: 30 as const };
}

/** Ten codes of 50 random bits each, shown as `xxxxx-xxxxx`. */
function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const raw = base32Encode(crypto.getRandomValues(new Uint8Array(7)))
      .slice(0, 10)
      .toLowerCase();
    return `${raw.slice(0, 5)}-${raw.slice(5)}`;
  });
}

const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, '');
const hashRecoveryCode = (code: string) => sha256Hex(normalizeRecoveryCode(code));

/** Statements that replace the user's recovery codes, applied only when `guard` holds in the batch. */
async function replaceRecoveryCodes(db: DB, userId: number, codes: string[], guard: SQL) {
  const hashes = JSON.stringify(await Promise.all(codes.map(hashRecoveryCode)));
  return [
    rawRun(db, sql`DELETE FROM mfa_recovery_codes WHERE user_id = ${userId} AND ${guard}`),
    rawRun(db, sql`INSERT INTO mfa_recovery_codes (user_id, code_hash) SELECT ${userId}, value FROM json_each(${hashes}) WHERE ${guard}`),
  ] as const;
}

async function enforceMfaLimits(env: Env, meta: RequestMeta, userId: number) {
  await Promise.all([
    enforceLimit(env, `mfa:account:${userId}`, MFA_ACCOUNT_POLICY),
    meta.ip ? enforceLimit(env, `mfa:ip:${meta.ip}`, MFA_IP_POLICY) : undefined,
  ]);
}

/** A wrong code: audited, and counted toward a burst that becomes one `mfa_failure` event. */
async function noteFailure(env: Env, db: DB, meta: RequestMeta, userId: number, action: string) {
  await auditInsert(db, meta, {
    action,
    outcome: 'failure',
    actorUserId: userId,
    targetType: 'user',
    targetId: userId,
    details: { reason: 'invalid_code' },
  });
  const burst = await reachesBurst(env, `mfa-failure:user:${userId}`, MFA_FAILURE_BURST.threshold, MFA_FAILURE_BURST.windowSeconds);
  if (burst.reached) {
    await recordSecurityEvent(env, db, {
      type: 'mfa_failure',
      severity: 'medium',
      userId,
      ip: meta.ip,
      dedupeKey: `mfa_failure:user:${userId}:${burst.windowStart}`,
      details: { failures: MFA_FAILURE_BURST.threshold, window_seconds: MFA_FAILURE_BURST.windowSeconds },
    });
  }
}

/** Confirms enrolment with a first code: MFA is enforced from now on. Returns the recovery codes. */
export async function confirmEnrollment(
  env: Env,
  db: DB,
  meta: RequestMeta,
  userId: number,
  currentSessionId: string,
  code: string,
): Promise<{ codes: string[]; sessionsRevoked: number }> {
  await enforceMfaLimits(env, meta, userId);
  const row = await db.select().from(userMfa).where(eq(userMfa.userId, userId)).get();
  if (!row) throw new ApiError('conflict', 'No MFA enrolment is pending; start one first');
  if (row.confirmedAt !== null) throw new ApiError('conflict', 'MFA is already enabled');
  const secret = await openFor(env, 'user_mfa', userId, 'secret', row.secretEnc);
  const step = await verifyTotp(secret, code, { lastCounter: row.lastStep });
  if (step === null) {
    await noteFailure(env, db, meta, userId, 'mfa.confirm');
    throw invalidCode();
  }
  // Re-sealing gives the row a ciphertext no other request has (fresh IV): the later statements
  // of the batch test for it, so they apply only if this request's confirmation won.
  const resealed = await sealFor(env, 'user_mfa', userId, 'secret', secret);
  const won = sql`EXISTS (SELECT 1 FROM user_mfa WHERE user_id = ${userId} AND secret_enc = ${resealed})`;
  const codes = newRecoveryCodes();
  const [confirmed, , , , revoked] = await db.batch([
    db
      .update(userMfa)
      .set({ confirmedAt: Date.now(), lastStep: step, secretEnc: resealed })
      .where(and(eq(userMfa.userId, userId), isNull(userMfa.confirmedAt), eq(userMfa.secretEnc, row.secretEnc)))
      .returning({ userId: userMfa.userId }),
    auditIfChanged(db, meta, { action: 'mfa.enable', targetType: 'user', targetId: userId }),
    ...(await replaceRecoveryCodes(db, userId, codes, won)),
    // Sessions signed in with the password alone (a thief's, perhaps) end: from now on every
    // session has passed the second factor. The session confirming stays.
    revokeSessionsStatement(db, userId, 'mfa_enabled', { except: currentSessionId, when: won }),
  ]);
  if (confirmed.length === 0) throw new ApiError('conflict', 'The enrolment changed or was confirmed by another request; start again');
  await limiter(env, `mfa:account:${userId}`).reset();
  await recordSecurityEvent(env, db, {
    type: 'mfa_enabled',
    severity: 'low',
    userId,
    ip: meta.ip,
    details: { sessions_revoked: revoked.length },
  });
  return { codes, sessionsRevoked: revoked.length };
}

/**
 * Checks a second factor of a user with MFA enabled and uses it up: a TOTP code's step is
 * recorded, a recovery code is marked used. Limited per account and per IP; wrong codes are
 * audited and counted. Returns which factor passed, or null.
 */
export async function useSecondFactor(
  env: Env,
  db: DB,
  meta: RequestMeta,
  userId: number,
  factor: SecondFactor,
): Promise<'totp' | 'recovery_code' | null> {
  await enforceMfaLimits(env, meta, userId);
  const row = await db
    .select()
    .from(userMfa)
    .where(and(eq(userMfa.userId, userId), isNotNull(userMfa.confirmedAt)))
    .get();
  let method: 'totp' | 'recovery_code' | null = null;
  if (row && factor.code !== undefined) {
    const secret = await openFor(env, 'user_mfa', userId, 'secret', row.secretEnc);
    const step = await verifyTotp(secret, factor.code, { lastCounter: row.lastStep });
    if (step !== null) {
      const [accepted] = await db.batch([
        rawAll(
          db,
          sql`UPDATE user_mfa SET last_step = ${step}
          WHERE user_id = ${userId} AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ${step}) RETURNING user_id`,
        ),
        auditIfChanged(db, meta, {
          action: 'mfa.verify',
          actorUserId: userId,
          targetType: 'user',
          targetId: userId,
          details: { method: 'totp' },
        }),
      ]);
      if (accepted.length > 0) method = 'totp';
    }
  } else if (row && factor.recovery_code !== undefined) {
    const [used] = await db.batch([
      db
        .update(mfaRecoveryCodes)
        .set({ usedAt: Date.now() })
        .where(
          and(
            eq(mfaRecoveryCodes.userId, userId),
            eq(mfaRecoveryCodes.codeHash, await hashRecoveryCode(factor.recovery_code)),
            isNull(mfaRecoveryCodes.usedAt),
          ),
        )
        .returning({ id: mfaRecoveryCodes.id }),
      auditIfChanged(db, meta, {
        action: 'mfa.verify',
        actorUserId: userId,
        targetType: 'user',
        targetId: userId,
        details: { method: 'recovery_code' },
      }),
    ]);
    if (used.length > 0) {
      method = 'recovery_code';
      const left = (await mfaStatus(db, userId)).recovery_codes_remaining;
      await recordSecurityEvent(env, db, {
        type: 'recovery_code_used',
        severity: 'medium',
        userId,
        ip: meta.ip,
        details: { remaining: left },
      });
    }
  }
  if (method === null) {
    await noteFailure(env, db, meta, userId, 'mfa.verify');
    return null;
  }
  await limiter(env, `mfa:account:${userId}`).reset();
  return method;
}

/** Removes the second factor and its recovery codes (the caller has checked password and code). */
export async function disableMfa(env: Env, db: DB, meta: RequestMeta, userId: number): Promise<void> {
  await db.batch([
    db.delete(userMfa).where(eq(userMfa.userId, userId)),
    auditIfChanged(db, meta, { action: 'mfa.disable', targetType: 'user', targetId: userId }),
    db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
  ]);
  await recordSecurityEvent(env, db, { type: 'mfa_disabled', severity: 'medium', userId, ip: meta.ip });
}

/** New recovery codes replace all old ones, used or not (the caller has checked a code). */
export async function regenerateRecoveryCodes(db: DB, meta: RequestMeta, userId: number): Promise<string[]> {
  const codes = newRecoveryCodes();
  const enabled = sql`EXISTS (SELECT 1 FROM user_mfa WHERE user_id = ${userId} AND confirmed_at IS NOT NULL)`;
  await db.batch([
    ...(await replaceRecoveryCodes(db, userId, codes, enabled)),
    auditInsert(db, meta, { action: 'mfa.recovery_codes_regenerate', targetType: 'user', targetId: userId }),
  ]);
  return codes;
}
