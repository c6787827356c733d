import { and, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { DB } from '../db/client';
import { apiKeys, sessions, socketTickets } from '../db/schema';
import type { Principal } from '../lib/access';
import { randomToken, sha256Hex } from '../lib/crypto';

/*
 * WebSocket tickets. A browser cannot set headers on a WebSocket upgrade, and a credential in the
 * URL ends up in logs and history; so it asks for a ticket with its session (POST
 * /api/v3/ws/ticket) and puts that in the URL. A ticket is single use (consumed by a conditional
 * UPDATE, which D1 serialises), lives TICKET_TTL_SECONDS, and stands for the session or API key
 * that asked for it: the guard re-checks that credential when the ticket is used, and applies
 * the credential's IP rules, rate limits, role and scopes as for any request.
 */
export const TICKET_TTL_SECONDS = 30;
const PREFIX = 'dwct_';

export async function issueSocketTicket(db: DB, principal: Principal): Promise<{ ticket: string; expiresIn: number }> {
  const ticket = PREFIX + randomToken(32);
  await db.insert(socketTickets).values({
    tokenHash: await sha256Hex(ticket),
    userId: principal.userId,
    sessionId: principal.kind === 'session' ? principal.sessionId : null,
    apiKeyId: principal.kind === 'api_key' ? principal.apiKeyId : null,
    expiresAt: Date.now() + TICKET_TTL_SECONDS * 1000,
  });
  return { ticket, expiresIn: TICKET_TTL_SECONDS };
}

/** Uses a ticket up: what it stands for, or null when it is unknown, expired or already used. */
export async function consumeSocketTicket(db: DB, ticket: string) {
  const now = Date.now();
  const [row] = await db.all<{ user_id: number; session_id: string | null; api_key_id: number | null }>(
    sql`UPDATE socket_tickets SET used_at = ${now}
    WHERE token_hash = ${await sha256Hex(ticket)} AND used_at IS NULL AND expires_at > ${now}
    RETURNING user_id, session_id, api_key_id`,
  );
  return row ? { userId: row.user_id, sessionId: row.session_id, apiKeyId: row.api_key_id } : null;
}

/**
 * Of the given sessions and API keys, the ones still live (not revoked, not expired, owner still
 * there): what an open socket's hub re-checks every few seconds, so ending a session or revoking a
 * key closes its sockets.
 */
export async function liveCredentials(
  db: DB,
  ids: { sessions: string[]; apiKeys: number[] },
): Promise<{ sessions: Set<string>; apiKeys: Set<number> }> {
  const now = Date.now();
  const [liveSessions, liveKeys] = await Promise.all([
    ids.sessions.length
      ? db
          .select({ id: sessions.id })
          .from(sessions)
          .where(and(inArray(sessions.id, ids.sessions), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
          .all()
      : [],
    ids.apiKeys.length
      ? db
          .select({ id: apiKeys.id })
          .from(apiKeys)
          .where(
            and(inArray(apiKeys.id, ids.apiKeys), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))),
          )
          .all()
      : [],
  ]);
  return { sessions: new Set(liveSessions.map((s) => s.id)), apiKeys: new Set(liveKeys.map((k) => k.id)) };
}
