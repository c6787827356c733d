import type { ChildRuns } from './ports';
import type { RunState } from './state';
import { render, type TemplateContext } from './template';
import type { WorkflowNode } from './definition';
import { validateJson } from './json-schema';
import { logReview } from './review';
import { type ChildOutcome, NodeError, type NodeRecord, type RunMeta } from './types';

/*
 * Nodes that wait for the outside world instead of executing: approvals (a person decides, or the
 * timeout does), subchains (a child run of another workflow), waits (a duration or an instant) and
 * waits for a named event. Each parks the node as `waiting` with a deadline, which the object's
 * alarm keeps: nothing runs while it waits. The run goes on when a signal arrives or the deadline
 * passes.
 */

export const SUBCHAIN_POLL_MS = 30_000;
const MAX_SUBCHAIN_DEPTH = 5;

/** What these functions need of the run's driver (driver.ts). */
export type WaitHost = {
  readonly state: RunState;
  readonly host: { waitUntil(p: Promise<unknown>): void };
  readonly ports: { children: ChildRuns };
  wake(): Promise<void>;
};

type Approval = Extract<WorkflowNode, { type: 'approval' }>;
type Subchain = Extract<WorkflowNode, { type: 'subchain' }>;

/** Parks an approval node until a decision or its timeout, and asks for the decision. */
export function startApproval(d: WaitHost, meta: RunMeta, rec: NodeRecord, def: Approval, ctx: TemplateContext): void {
  rec.status = 'waiting';
  rec.waitUntil = Date.now() + def.approval_timeout_seconds * 1000;
  d.state.save(rec);
  const message = def.message ? render(def.message, ctx) : null;
  const until = new Date(rec.waitUntil).toISOString();
  const waiting = d.state.emit('node.waiting', rec.id, { reason: 'approval', message, until });
  // Raised in the same storage turn as the node's state: a request exists exactly when the node waits.
  d.state.raise({
    id: `run:${meta.runId}:approval:${rec.id}:${waiting.seq}`,
    type: 'approval.requested',
    ownerId: meta.ownerId,
    at: waiting.at,
    data: { run_id: meta.runId, workflow_id: meta.workflowId, workflow_name: meta.workflowName, node_id: rec.id, message, until },
    effectRef: `run:${meta.runId}`,
  });
}

export function decideApproval(
  d: WaitHost,
  rec: NodeRecord,
  approved: boolean,
  comment: string | null,
  actor: number | null,
  timedOut = false,
  key?: string,
): void {
  rec.attempts = 1;
  const decision = approved ? 'approve' : 'reject';
  rec.output = {
    text: approved ? 'approved' : 'rejected',
    data: { decision, approved, comment, actor_user_id: actor, timed_out: timedOut },
  };
  d.state.emit(approved ? 'node.approved' : 'node.rejected', rec.id, { comment, actor_user_id: actor, timed_out: timedOut });
  logReview(d.state, rec.id, decision, { comment, actor, timedOut, key });
  if (approved) d.state.finishNode(rec, 'succeeded', null);
  else d.state.finishNode(rec, 'failed', timedOut ? 'approval timed out' : `approval rejected${comment ? `: ${comment}` : ''}`);
}

/** Parks a subchain node and starts its child run (after this turn, so the node's state is saved first). */
export function startSubchain(d: WaitHost, meta: RunMeta, rec: NodeRecord, def: Subchain, ctx: TemplateContext): void {
  rec.status = 'waiting';
  rec.waitUntil = Date.now() + SUBCHAIN_POLL_MS;
  d.state.save(rec);
  const input = Object.fromEntries(Object.entries(def.input).map(([k, v]) => [k, render(v, ctx)]));
  d.host.waitUntil(launchSubchain(d, meta, rec, def.workflow_id, input));
}

async function launchSubchain(d: WaitHost, meta: RunMeta, rec: NodeRecord, workflowId: number, input: Record<string, unknown>) {
  try {
    if (meta.depth + 1 > MAX_SUBCHAIN_DEPTH) throw new NodeError(`subchains nest deeper than ${MAX_SUBCHAIN_DEPTH} levels`, false);
    const childRunId = await d.ports.children.launch(meta, rec.id, rec.attempts + 1, workflowId, input);
    rec.childRunId = childRunId;
    d.state.save(rec);
    d.state.emitFor(rec, 'waiting', { reason: 'subchain', child_run_id: childRunId });
  } catch (err) {
    rec.attempts += 1;
    d.state.finishNode(rec, 'failed', err instanceof Error ? err.message : String(err));
  }
  await d.wake();
}

/** The child has not reported: ask it, and look again later if it is still going. */
export function pollSubchain(d: WaitHost, rec: NodeRecord): void {
  rec.waitUntil = Date.now() + SUBCHAIN_POLL_MS;
  d.state.save(rec);
  const childRunId = rec.childRunId!;
  d.host.waitUntil(
    d.ports.children.poll(childRunId).then(async (child) => {
      const current = d.state.nodes().get(rec.id);
      if (child && current?.status === 'waiting' && current.childRunId === childRunId) {
        completeSubchain(d, current, child);
        await d.wake();
      }
    }),
  );
}

export function completeSubchain(d: WaitHost, rec: NodeRecord, child: ChildOutcome): void {
  rec.attempts += 1;
  if (child.status === 'succeeded') {
    const texts = Object.values(child.output ?? {}).map((o) => (o && typeof o === 'object' && 'text' in o ? String(o.text) : ''));
    rec.output = { text: texts.filter(Boolean).join('\n\n'), data: { child_run_id: child.runId, output: child.output } };
    d.state.finishNode(rec, 'succeeded', null);
  } else {
    d.state.finishNode(rec, 'failed', `child run ${child.runId} ${child.status}: ${child.error ?? 'no error recorded'}`);
  }
}

type Wait = Extract<WorkflowNode, { type: 'wait' }>;
type WaitForEvent = Extract<WorkflowNode, { type: 'wait_for_event' }>;

/** Parks a wait node until its instant: a duration from now, or `until` rendered. */
export function startWait(d: WaitHost, rec: NodeRecord, def: Wait, ctx: TemplateContext): void {
  const now = Date.now();
  const raw = def.until === undefined ? null : render(def.until, ctx);
  const until = raw === null ? now + def.duration_seconds! * 1000 : Date.parse(raw);
  if (Number.isNaN(until)) {
    rec.attempts = 1;
    d.state.finishNode(rec, 'failed', `until must be an ISO 8601 instant; it rendered as "${raw!.slice(0, 100)}"`, { retryable: false });
    return;
  }
  rec.status = 'waiting';
  rec.waitUntil = Math.max(until, now);
  d.state.save(rec);
  d.state.emit('node.waiting', rec.id, { reason: 'wait', until: new Date(rec.waitUntil).toISOString() });
}

export function finishWait(d: WaitHost, rec: NodeRecord): void {
  rec.attempts = 1;
  rec.output = { text: '', data: { waited_until: new Date(rec.waitUntil ?? Date.now()).toISOString() } };
  d.state.finishNode(rec, 'succeeded', null);
}

/** Parks a wait_for_event node, unless an event it waits for was sent before (the run keeps those). */
export function startWaitForEvent(d: WaitHost, rec: NodeRecord, def: WaitForEvent): void {
  const sent = d.state.store.takeEvent(def.event, rec.id);
  if (sent) {
    receiveEvent(d, rec, sent.payload);
    return;
  }
  rec.status = 'waiting';
  rec.waitUntil = Date.now() + def.timeout_seconds * 1000;
  d.state.save(rec);
  d.state.emit('node.waiting', rec.id, { reason: 'event', event: def.event, until: new Date(rec.waitUntil).toISOString() });
}

/** An event's payload becomes the node's output: its text (JSON), and its data when it is an object. */
export function receiveEvent(d: WaitHost, rec: NodeRecord, payload: unknown): void {
  rec.attempts = 1;
  const data =
    typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : { value: payload };
  rec.output = { text: typeof payload === 'string' ? payload : JSON.stringify(payload), data };
  d.state.emit('node.event_received', rec.id, {});
  d.state.finishNode(rec, 'succeeded', null);
}

export function eventTimedOut(d: WaitHost, rec: NodeRecord, def: WaitForEvent): void {
  rec.attempts = 1;
  if (def.on_timeout === 'fail') {
    d.state.finishNode(rec, 'failed', `no "${def.event}" event arrived within ${def.timeout_seconds}s`, { retryable: false });
    return;
  }
  rec.output = { text: '', data: { event: def.event, timed_out: true } };
  d.state.finishNode(rec, 'succeeded', null);
}

/** A payload's problems under the schema of the node that will take it; null when it is accepted. */
export function eventProblems(def: WaitForEvent, payload: unknown): string | null {
  if (!def.schema) return null;
  const checked = validateJson(def.schema, payload);
  return checked.valid ? null : `the payload does not match the event's schema: ${checked.errors.join('; ')}`;
}
