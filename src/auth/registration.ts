import { z } from '@hono/zod-openapi';
import { eq, sql } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import { rawAll, type DB } from '../db/client';
import { authSettings, SELF_SERVICE_ROLES, users } from '../db/schema';
import { isDevelopment, secrets } from '../lib/config';
import { constantTimeEqual, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { enforceLimit } from '../lib/limits';
import { log } from '../lib/log';
import { hashPassword } from './passwords';
import { assertStrongPassword, findUserByLogin, getUser, normalizeLogin, type UserRow } from './users';
import { startEmailVerification } from './verification';
import type { SystemMail } from './credentials';

/*
 * Who may create an account, and with which role. Nobody becomes admin by registering: the first
 * administrator is made out of band (`POST /bootstrap` with the deployment's BOOTSTRAP_SECRET, or
 * a `wrangler d1 execute` step), and later ones are promoted by an administrator.
 *
 *   open    anyone may register and gets `default_role`; with `email_verification` (and an email
 *           configuration to send with) the account stays `pending` until the address is confirmed
 *   invite  only with an invitation, which names the role it gives
 *   closed  nobody may register
 */
export const REGISTRATION_MODES = ['open', 'invite', 'closed'] as const;

export const RegistrationSettings = z
  .strictObject({
    mode: z.enum(REGISTRATION_MODES),
    default_role: z.enum(SELF_SERVICE_ROLES).openapi({ description: 'The role an open self-registration gets; never admin' }),
    email_verification: z
      .boolean()
      .openapi({ description: 'Open registrations confirm their address before they can sign in (when email can be sent)' }),
  })
  .openapi('RegistrationSettings');
export type RegistrationSettings = z.infer<typeof RegistrationSettings>;

const SETTINGS_KEY = 'registration';

/**
 * What applies until an administrator saves a policy. Production admits only invited users, as
 * viewers; development is open with editor rights, so the README's examples work on a fresh
 * database with nothing set up.
 */
export function defaultRegistrationSettings(env: Env): RegistrationSettings {
  return isDevelopment(env)
    ? { mode: 'open', default_role: 'editor', email_verification: false }
    : { mode: 'invite', default_role: 'viewer', email_verification: true };
}

export async function registrationSettings(env: Env, db: DB): Promise<RegistrationSettings & { source: 'default' | 'saved' }> {
  const row = await db.select().from(authSettings).where(eq(authSettings.key, SETTINGS_KEY)).get();
  const saved = row ? RegistrationSettings.safeParse(row.value) : null;
  if (saved?.success) return { ...saved.data, source: 'saved' };
  if (row) log(env.LOG_LEVEL, 'error', 'stored registration settings are invalid; using the defaults', {});
  return { ...defaultRegistrationSettings(env), source: 'default' };
}

export async function saveRegistrationSettings(db: DB, meta: RequestMeta, settings: RegistrationSettings): Promise<void> {
  const now = Date.now();
  await db.batch([
    db
      .insert(authSettings)
      .values({ key: SETTINGS_KEY, value: settings, updatedAt: now, updatedBy: meta.actorUserId })
      .onConflictDoUpdate({ target: authSettings.key, set: { value: settings, updatedAt: now, updatedBy: meta.actorUserId } }),
    auditInsert(db, meta, { action: 'auth.registration_settings', targetType: 'settings', targetId: SETTINGS_KEY, details: settings }),
  ]);
}

export type RegisterInput = {
  username: string;
  email: string;
  password: string;
  full_name?: string | undefined;
  invite_token?: string | undefined;
};

/** Per submitted address: how often registration may mail it (counted alike for new and known addresses). */
export const REGISTER_EMAIL_POLICY = { name: 'register-email', limit: 5, windowSeconds: 3600 };

const UNAVAILABLE = 'That username or email address is not available';
export const PENDING_ANSWER =
  'Check your inbox: if the address can be registered, a confirmation link is on its way. Confirm it within 24 hours, then sign in.';

function uniqueViolation(err: unknown): boolean {
  return String((err as { cause?: unknown })?.cause ?? err).includes('UNIQUE constraint failed');
}

/** One answer for a taken username and a taken address: which one is taken is nobody's business. */
const unavailable = () => new ApiError('conflict', UNAVAILABLE, { details: [{ path: ['username'], message: 'not available' }] });

type NewUser = { username: string; email: string; fullName: string | null; passwordHash: string };

async function newUser(env: Env, input: RegisterInput): Promise<NewUser> {
  const username = normalizeLogin(input.username);
  const email = normalizeLogin(input.email);
  assertStrongPassword(input.password, { username, email }, 'password');
  return { username, email, fullName: input.full_name ?? null, passwordHash: await hashPassword(input.password, secrets(env).pepper) };
}

const registerAudit = (db: DB, meta: RequestMeta, username: string, details: Record<string, unknown>) =>
  auditIfChanged(db, meta, {
    action: 'auth.register',
    targetType: 'user',
    targetId: sql`(SELECT CAST(id AS TEXT) FROM users WHERE username = ${username})`,
    actorUserId: sql`(SELECT id FROM users WHERE username = ${username})`,
    details: { username, ...details },
  });

async function insertUser(db: DB, meta: RequestMeta, u: NewUser, role: (typeof SELF_SERVICE_ROLES)[number], status: 'active' | 'pending') {
  try {
    const [inserted] = await db.batch([
      db
        .insert(users)
        .values({ username: u.username, email: u.email, fullName: u.fullName, passwordHash: u.passwordHash, role, status })
        .returning(),
      registerAudit(db, meta, u.username, { role, via: 'open', status }),
    ]);
    return inserted[0]!;
  } catch (err) {
    if (uniqueViolation(err)) throw unavailable();
    throw err;
  }
}

/**
 * Registration with an invitation. The user is inserted only if the invite is live (and names
 * this address, when it names one), and the invite is marked used only if that insert happened
 * (`changes()`), in one batch: of two registrations racing with one invite, one account results.
 */
async function registerWithInvite(db: DB, meta: RequestMeta, u: NewUser, token: string): Promise<UserRow> {
  const hash = await sha256Hex(token);
  const now = Date.now();
  try {
    const [inserted] = await db.batch([
      rawAll<{ id: number }>(
        db,
        sql`INSERT INTO users (username, email, full_name, password_hash, role, status, email_verified_at)
        SELECT ${u.username}, ${u.email}, ${u.fullName}, ${u.passwordHash}, i.role, 'active', CASE WHEN i.email IS NOT NULL THEN ${now} END
        FROM invites i
        WHERE i.token_hash = ${hash} AND i.used_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ${now}
          AND (i.email IS NULL OR i.email = ${u.email})
        RETURNING id`,
      ),
      rawAll(
        db,
        sql`UPDATE invites SET used_at = ${now}, used_by = (SELECT id FROM users WHERE username = ${u.username})
        WHERE token_hash = ${hash} AND used_at IS NULL AND changes() > 0`,
      ),
      registerAudit(db, meta, u.username, { via: 'invite' }),
    ]);
    const id = inserted[0]?.id;
    const user = id === undefined ? undefined : await getUser(db, id);
    if (!user) {
      throw new ApiError('validation_error', 'Invalid, expired or already used invitation', {
        details: [{ path: ['invite_token'], code: 'invalid_invite', message: 'invalid, expired, used, or for another address' }],
      });
    }
    return user;
  } catch (err) {
    if (uniqueViolation(err)) throw unavailable();
    throw err;
  }
}

/** How a registration ended: an account to show, or (email verification) the same answer for every request. */
export type Registered = { kind: 'created'; user: UserRow } | { kind: 'pending'; message: string };

/**
 * Self-registration under the saved (or default) policy. With email verification the answer is
 * the same 202 whatever happens next, and the work — inserting the pending account and mailing a
 * link, or mailing the owner of a taken address — runs after the answer, so neither the body nor
 * its timing says whether an address or a name is registered.
 */
export async function registerAccount(
  env: Env,
  db: DB,
  meta: RequestMeta,
  input: RegisterInput,
  mail: SystemMail,
  defer: (p: Promise<unknown>) => void,
): Promise<Registered> {
  const settings = await registrationSettings(env, db);
  if (settings.mode === 'closed') throw new ApiError('forbidden', 'Registration is closed on this service');
  if (input.invite_token !== undefined) {
    return { kind: 'created', user: await registerWithInvite(db, meta, await newUser(env, input), input.invite_token) };
  }
  if (settings.mode === 'invite') throw new ApiError('forbidden', 'Registration on this service needs an invitation (invite_token)');
  if (!(settings.email_verification && (await mail.configured(env, db)))) {
    return { kind: 'created', user: await insertUser(db, meta, await newUser(env, input), settings.default_role, 'active') };
  }
  const email = normalizeLogin(input.email);
  await enforceLimit(env, `register:email:${email}`, REGISTER_EMAIL_POLICY);
  const u = { username: normalizeLogin(input.username), email };
  assertStrongPassword(input.password, u, 'password');
  const work = async () => {
    let user: UserRow;
    try {
      user = await insertUser(db, meta, await newUser(env, input), settings.default_role, 'pending');
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'conflict')) throw err;
      const owner = await findUserByLogin(db, email);
      if (owner) {
        await mail.send(
          env,
          db,
          owner.email,
          'Someone tried to register with your address',
          `Someone tried to create an account with this address (${owner.email}), which already belongs to the account ${owner.username}. If it was you, sign in, or reset your password if you have forgotten it. If it was not you, nothing has changed.`,
        );
      } else {
        await mail.send(
          env,
          db,
          email,
          'Choose another username',
          `Someone (you, we hope) tried to register this address with the username ${u.username}, which is taken. Register again with another username.`,
        );
      }
      return;
    }
    await startEmailVerification(env, db, meta, user, mail);
  };
  defer(work().catch((err) => log(env.LOG_LEVEL, 'error', 'registration failed', { requestId: meta.requestId, error: String(err) })));
  return { kind: 'pending', message: PENDING_ANSWER };
}

/**
 * The first administrator, created with the deployment's BOOTSTRAP_SECRET. One-time by
 * construction: the INSERT happens only while no admin exists, decided inside the statement, so
 * two concurrent bootstraps cannot both succeed (D1 serialises writes), and once there is an
 * admin the secret opens nothing.
 */
export async function bootstrapAdmin(env: Env, db: DB, meta: RequestMeta, input: RegisterInput): Promise<UserRow> {
  const u = await newUser(env, input);
  try {
    const [inserted] = await db.batch([
      rawAll<{ id: number }>(
        db,
        sql`INSERT INTO users (username, email, full_name, password_hash, role, status)
        SELECT ${u.username}, ${u.email}, ${u.fullName}, ${u.passwordHash}, 'admin', 'active'
        WHERE NOT EXISTS (SELECT 1 FROM users WHERE role = 'admin')
        RETURNING id`,
      ),
      registerAudit(db, meta, u.username, { via: 'bootstrap', role: 'admin' }),
    ]);
    const id = inserted[0]?.id;
    const user = id === undefined ? undefined : await getUser(db, id);
    if (!user) throw new ApiError('conflict', 'An administrator already exists: bootstrap is closed');
    return user;
  } catch (err) {
    if (uniqueViolation(err)) throw unavailable();
    throw err;
  }
}

/**
 * Checks the presented bootstrap secret. Absent: bootstrap is off (403). Outside development a
 * short or development value is a configuration fault (503), never an open door.
 */
export async function checkBootstrapSecret(env: Env, presented: string | undefined): Promise<void> {
  const configured = env.BOOTSTRAP_SECRET ?? '';
  if (!configured) throw new ApiError('forbidden', 'Bootstrap is not enabled on this deployment (BOOTSTRAP_SECRET is not set)');
  if (!isDevelopment(env) && (configured.length < 32 || configured.startsWith('dev-only-'))) {
    log(env.LOG_LEVEL, 'error', 'configuration problem', {
      problem: 'BOOTSTRAP_SECRET is shorter than 32 characters or a development value',
    });
    throw new ApiError('service_unavailable', 'The service is not configured correctly; the operator has been told');
  }
  const [a, b] = await Promise.all([sha256Hex(configured), sha256Hex(presented ?? '')]);
  if (!constantTimeEqual(new TextEncoder().encode(a), new TextEncoder().encode(b))) {
    throw new ApiError('forbidden', 'Invalid bootstrap secret');
  }
}
