import { getDb } from '../db/client';
import { liveCredentials } from '../auth';
import type { Attachment } from './protocol';

/**
 * How often a hub re-checks the sessions and API keys its open sockets stand on. The guard
 * checked them at the upgrade; this is what makes a logout, a revoked session or key, a password
 * reset or a deleted account close the sockets too, within this many milliseconds (plus the
 * alarm's own delay). One D1 query per hub per period while it has sockets; none when it has none.
 */
export const RECHECK_MS = 5000;

/** The sockets whose credential is no longer live. */
export async function endedSockets(env: Env, sockets: { ws: WebSocket; att: Attachment }[]): Promise<WebSocket[]> {
  const sessions = [...new Set(sockets.flatMap((s) => (s.att.sessionId ? [s.att.sessionId] : [])))];
  const apiKeys = [...new Set(sockets.flatMap((s) => (s.att.apiKeyId !== null ? [s.att.apiKeyId] : [])))];
  const live = await liveCredentials(getDb(env.DB), { sessions, apiKeys });
  return sockets
    .filter(({ att }) =>
      // A socket that names neither (none is made so) cannot be re-checked, so it is not kept.
      att.sessionId ? !live.sessions.has(att.sessionId) : att.apiKeyId !== null ? !live.apiKeys.has(att.apiKeyId) : true,
    )
    .map((s) => s.ws);
}
