import { eq } from 'drizzle-orm';
import type { DB } from '../db/client';
import { runTraceLinks } from '../db/schema';
import type { SpanContext } from './context';

/** Records that a run was started by a request made under a caller's span (its `traceparent`). */
export async function recordRunLink(db: DB, runId: number, caller: SpanContext): Promise<void> {
  await db.insert(runTraceLinks).values({ runId, traceId: caller.traceId, spanId: caller.spanId }).onConflictDoNothing();
}

export async function runLink(db: DB, runId: number): Promise<{ traceId: string; spanId: string } | null> {
  const row = await db.select().from(runTraceLinks).where(eq(runTraceLinks.runId, runId)).get();
  return row ? { traceId: row.traceId, spanId: row.spanId } : null;
}
