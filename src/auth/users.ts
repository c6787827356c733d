import { and, desc, eq, lt, or } from 'drizzle-orm';
import { auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { users, type Role } from '../db/schema';
import { ApiError } from '../lib/errors';
import { checkPasswordStrength } from './passwords';

export type UserRow = typeof users.$inferSelect;

export function publicUser(u: UserRow) {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    full_name: u.fullName,
    role: u.role,
    email_verified: u.emailVerifiedAt !== null,
    created_at: new Date(u.createdAt).toISOString(),
  };
}

/** Usernames and emails are compared case-insensitively by storing them lower-cased. */
export const normalizeLogin = (s: string) => s.trim().toLowerCase();

/**
 * zxcvbn's verdict, with the user's own username and email as dictionary words; a weak password
 * is a 400 naming the field and zxcvbn's reasons.
 */
export function assertStrongPassword(password: string, user: { username: string; email: string }, field: string): void {
  const strength = checkPasswordStrength(password, [user.username, user.email, user.email.split('@')[0] ?? '']);
  if (!strength.ok) {
    throw new ApiError('validation_error', 'Password is too weak', {
      details: [
        { path: [field], code: 'weak_password', message: strength.reasons.join(' '), reasons: strength.reasons, score: strength.score },
      ],
    });
  }
}

export async function findUserByLogin(db: DB, login: string): Promise<UserRow | undefined> {
  const l = normalizeLogin(login);
  return db
    .select()
    .from(users)
    .where(or(eq(users.username, l), eq(users.email, l)))
    .get();
}

export async function getUser(db: DB, id: number): Promise<UserRow | undefined> {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export async function listUsers(db: DB, limit: number, beforeId?: number): Promise<UserRow[]> {
  return db
    .select()
    .from(users)
    .where(beforeId ? lt(users.id, beforeId) : undefined)
    .orderBy(desc(users.id))
    .limit(limit + 1)
    .all();
}

export async function setUserRole(db: DB, meta: RequestMeta, id: number, role: Role): Promise<UserRow> {
  if (id === meta.actorUserId) {
    // Prevents the last admin from locking everyone out by demoting themselves.
    throw new ApiError('forbidden', 'Administrators cannot change their own role');
  }
  const existing = await getUser(db, id);
  if (!existing) throw new ApiError('not_found', 'User not found');
  const [updated] = await db.batch([
    db
      .update(users)
      .set({ role, updatedAt: Date.now() })
      .where(and(eq(users.id, id)))
      .returning(),
    auditInsert(db, meta, { action: 'user.role_change', targetType: 'user', targetId: id, details: { from: existing.role, to: role } }),
  ]);
  return updated[0]!;
}
