/**
 * Accounts and their credentials: users, login sessions and their refresh tokens, API keys, and the
 * second factor, login challenges and password resets that src/auth checks.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { now } from './columns';

export const ROLES = ['admin', 'editor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];
/** The roles an account can get without an administrator acting on it: self-registration and invites. */
export const SELF_SERVICE_ROLES = ['editor', 'viewer'] as const;
/** `pending`: registered with email verification and not yet confirmed; cannot sign in. */
export const USER_STATUSES = ['active', 'pending'] as const;

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    username: text('username').notNull(),
    email: text('email').notNull(),
    fullName: text('full_name'),
    /** `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>`: parameters travel with the hash. */
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ROLES }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
    updatedAt: integer('updated_at').notNull().default(now),
    passwordChangedAt: integer('password_changed_at'),
    status: text('status', { enum: USER_STATUSES }).notNull().default('active'),
    /** When the owner proved the address is theirs (a verification token, or an invite sent to it). */
    emailVerifiedAt: integer('email_verified_at'),
  },
  (t) => [uniqueIndex('users_username_unique').on(t.username), uniqueIndex('users_email_unique').on(t.email)],
);

/** A login session; its refresh tokens form one rotation family. Revoking it ends them all. */
export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    revokedReason: text('revoked_reason'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** The last time the user proved a factor in this session (sign-in, re-authentication); null: never recorded. */
    authenticatedAt: integer('authenticated_at'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    /** SHA-256 of the opaque token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    /** Set when the token is exchanged; a second exchange is reuse and revokes the session. */
    usedAt: integer('used_at'),
  },
  (t) => [uniqueIndex('refresh_tokens_hash_unique').on(t.tokenHash), index('refresh_tokens_session_idx').on(t.sessionId)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The first characters of the key, shown in listings so a user can tell keys apart. */
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at'),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
    /** Why: `revoked_by_user`, `password_reset`, `logout_all`. */
    revokedReason: text('revoked_reason'),
  },
  (t) => [uniqueIndex('api_keys_hash_unique').on(t.keyHash), index('api_keys_user_idx').on(t.userId)],
);

/** TOTP second factor: one per user. The secret is stored encrypted (src/security/encryption.ts). */
export const userMfa = sqliteTable('user_mfa', {
  userId: integer('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secretEnc: text('secret_enc').notNull(),
  /** Null while enrolment awaits its first code; MFA is enforced only once confirmed. */
  confirmedAt: integer('confirmed_at'),
  /** Highest TOTP time step accepted so far: a code is accepted once only. */
  lastStep: integer('last_step'),
  createdAt: integer('created_at').notNull().default(now),
});

/** One-time recovery codes, stored as SHA-256 hashes. */
export const mfaRecoveryCodes = sqliteTable(
  'mfa_recovery_codes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: text('code_hash').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('mfa_recovery_codes_hash_unique').on(t.userId, t.codeHash)],
);

/** A password check passed and a second factor is awaited; single use, short-lived. */
export const loginChallenges = sqliteTable(
  'login_challenges',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    attempts: integer('attempts').notNull().default(0),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('login_challenges_hash_unique').on(t.tokenHash)],
);

/** Password reset: the token is delivered out of band; only its hash is stored. Single use. */
export const passwordResetTokens = sqliteTable(
  'password_reset_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    ip: text('ip'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('password_reset_tokens_hash_unique').on(t.tokenHash), index('password_reset_tokens_user_idx').on(t.userId)],
);

/** Service-wide account settings an administrator changes (the registration policy), one JSON value per key. */
export const authSettings = sqliteTable('auth_settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  updatedAt: integer('updated_at').notNull().default(now),
  updatedBy: integer('updated_by').references(() => users.id, { onDelete: 'set null' }),
});

/** An invitation to register: single use, with the role it gives; only the token's hash is stored. */
export const invites = sqliteTable(
  'invites',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    /** When set, only this address may register with the invite (and it counts as verified). */
    email: text('email'),
    role: text('role', { enum: SELF_SERVICE_ROLES }).notNull(),
    createdBy: integer('created_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at').notNull().default(now),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    usedBy: integer('used_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('invites_hash_unique').on(t.tokenHash)],
);

/** A token proving the owner reads `email`; single use, short-lived, only its hash stored. */
export const emailVerifications = sqliteTable(
  'email_verifications',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('email_verifications_hash_unique').on(t.tokenHash), index('email_verifications_user_idx').on(t.userId)],
);

/**
 * A WebSocket ticket: what a browser puts in the upgrade URL instead of a credential. Single use,
 * valid seconds, tied to the session or API key that asked for it (re-checked when it is used).
 */
export const socketTickets = sqliteTable(
  'socket_tickets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    tokenHash: text('token_hash').notNull(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionId: text('session_id'),
    apiKeyId: integer('api_key_id'),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [uniqueIndex('socket_tickets_hash_unique').on(t.tokenHash)],
);
