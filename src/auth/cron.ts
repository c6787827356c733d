import { sql } from 'drizzle-orm';
import { getDb } from '../db/client';
import { VERIFICATION_TTL_SECONDS } from './verification';

/**
 * The cron tick's share of accounts: a `pending` account (open registration with email
 * verification) whose address was not confirmed while its token lived is deleted, so a name or
 * an address cannot be held by someone who does not read its mail. Its sessions, keys and tokens
 * go with it (ON DELETE CASCADE); it never had any but the verification token.
 */
export async function authCron(env: Env, now = Date.now()): Promise<void> {
  const db = getDb(env.DB);
  await db.run(sql`DELETE FROM users WHERE status = 'pending' AND created_at < ${now - VERIFICATION_TTL_SECONDS * 1000}`);
}
