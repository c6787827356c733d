/** Column helpers shared by the schema files. Not re-exported from index.ts: they are not tables. */
import { sql } from 'drizzle-orm';

// Milliseconds since the epoch, as an integer, computed by SQLite at insert time.
export const now = sql`(cast((julianday('now') - 2440587.5) * 86400000 as integer))`;
