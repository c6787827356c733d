import type { DB } from '../db/client';
import { publicRun, runStub } from '../runs';
import { buildRunTrace, type RunTrace } from './run-trace';
import { runLink } from './store';

/** The run's object holds at most this many events per read; a trace shows the first ones (tokens excluded). */
const MAX_EVENTS = 1000;

/**
 * A run's trace, from its object's live record (nodes, events) and D1's attempt history. Plain
 * function over the runs feature's public module; not exported from index.ts, because src/runs
 * imports this feature's outbound helpers and the two public modules must not import each other.
 */
export async function loadRunTrace(env: Env, db: DB, runId: number): Promise<RunTrace> {
  const stub = runStub(env, runId);
  const [view, events, link] = await Promise.all([stub.view(), stub.events(0, MAX_EVENTS), runLink(db, runId)]);
  return buildRunTrace(await publicRun(db, view), events, link);
}
