import { and, desc, eq, isNull, lt } from 'drizzle-orm';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { invites, type SELF_SERVICE_ROLES } from '../db/schema';
import { randomToken, sha256Hex } from '../lib/crypto';
import { ApiError } from '../lib/errors';
import { toIso, toIsoOrNull } from '../lib/time';
import { normalizeLogin } from './users';

/*
 * Invitations: an administrator makes one, hands its token to the person out of band (or names
 * their address, so only that address can use it), and the person registers with it and gets the
 * invite's role. Single use; only the token's SHA-256 is stored (it carries 256 bits, so a fast
 * hash is enough). An invite can never give `admin`.
 */
const PREFIX = 'dwci_';
export const DEFAULT_INVITE_DAYS = 7;

export type InviteRow = typeof invites.$inferSelect;

export function publicInvite(row: InviteRow) {
  const now = Date.now();
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status: row.usedAt !== null ? 'used' : row.revokedAt !== null ? 'revoked' : row.expiresAt <= now ? 'expired' : 'open',
    created_by: row.createdBy,
    created_at: toIso(row.createdAt),
    expires_at: toIso(row.expiresAt),
    used_at: toIsoOrNull(row.usedAt),
    used_by: row.usedBy,
  } as const;
}

export async function createInvite(
  db: DB,
  meta: RequestMeta,
  input: { email?: string | undefined; role: (typeof SELF_SERVICE_ROLES)[number]; expires_in_days?: number | undefined },
): Promise<{ token: string; row: InviteRow }> {
  const token = PREFIX + randomToken(32);
  const email = input.email === undefined ? null : normalizeLogin(input.email);
  const [inserted] = await db.batch([
    db
      .insert(invites)
      .values({
        tokenHash: await sha256Hex(token),
        email,
        role: input.role,
        createdBy: meta.actorUserId,
        expiresAt: Date.now() + (input.expires_in_days ?? DEFAULT_INVITE_DAYS) * 86_400_000,
      })
      .returning(),
    auditInsert(db, meta, { action: 'auth.invite_create', targetType: 'invite', details: { role: input.role, email } }),
  ]);
  return { token, row: inserted[0]! };
}

export async function listInvites(db: DB, limit: number, beforeId?: number): Promise<InviteRow[]> {
  return db
    .select()
    .from(invites)
    .where(beforeId ? lt(invites.id, beforeId) : undefined)
    .orderBy(desc(invites.id))
    .limit(limit + 1)
    .all();
}

/** Revokes an unused invite; a used, revoked or unknown one answers 404 alike. */
export async function revokeInvite(db: DB, meta: RequestMeta, id: number): Promise<void> {
  const [updated] = await db.batch([
    db
      .update(invites)
      .set({ revokedAt: Date.now() })
      .where(and(eq(invites.id, id), isNull(invites.usedAt), isNull(invites.revokedAt)))
      .returning({ id: invites.id }),
    auditIfChanged(db, meta, { action: 'auth.invite_revoke', targetType: 'invite', targetId: id }),
  ]);
  if (updated.length === 0) throw new ApiError('not_found', 'Invite not found');
}
