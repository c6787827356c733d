import type { WorkflowNode } from './definition';
import { titleOf } from './executors';
import { loopsOf } from './graph';
import type { RunState } from './state';
import type { NodeRecord, ReviewDecision, RunMeta, RunSignal, SignalResult } from './types';

/*
 * What a reviewer can decide at an approval node besides approving and rejecting (waits.ts):
 * - `edit`: the reviewed document gets a new version with the reviewer's text (the version is
 *   recorded as theirs), and that text is what the nodes after the approval read as
 *   `{{nodes.<reviewed>.output}}`; the approval succeeds.
 * - `request_changes`: inside a loop's body, the iteration ends at the approval (the body nodes
 *   after it are skipped) and the loop goes round again whatever its condition says; elsewhere
 *   the reviewed node runs again and the approval asks again. Either way the comments are
 *   `{{review.comments}}` from then on.
 * The reviewed node is the approval's first dependency that wrote a document. Every decision is
 * appended to the run's review log (`meta.reviews`), which the run shows and the reviewed
 * document's provenance records. The run's object is the single writer of its state, so each
 * wait for a decision takes exactly one: a second request finds the node no longer waiting.
 */

/** Requests for changes an approval outside a loop accepts before it must be approved, edited or rejected. */
export const MAX_CHANGE_REQUESTS = 10;

type Approval = Extract<WorkflowNode, { type: 'approval' }>;
type ApprovalSignal = Extract<RunSignal, { type: 'approval' }>;

/** The node whose document an approval reviews: its first dependency that wrote one; null when none did. */
export function reviewedNode(def: Approval, nodes: Map<string, NodeRecord>): NodeRecord | null {
  for (const id of def.depends_on) {
    const rec = nodes.get(id);
    if (rec?.status === 'succeeded' && rec.output?.title !== undefined) return rec;
  }
  return null;
}

/**
 * Appends a decision to the run's review log and queues the reviewed document again, so its
 * stored provenance lists the decision (an edit's entry also carries the reviewer's version).
 */
export function logReview(
  state: RunState,
  approvalId: string,
  decision: ReviewDecision,
  x: { comment: string | null; actor: number | null; timedOut?: boolean; editedVersion?: number; key?: string | undefined },
): void {
  const meta = state.meta();
  const def = meta.nodes.find((n): n is Approval => n.id === approvalId && n.type === 'approval');
  const reviewed = def ? reviewedNode(def, state.nodes()) : null;
  meta.reviews = [
    ...(meta.reviews ?? []),
    {
      node_id: approvalId,
      reviewed_node: reviewed?.id ?? null,
      decision,
      comment: x.comment,
      actor_user_id: x.actor,
      timed_out: x.timedOut ?? false,
      at: Date.now(),
      document_version: x.editedVersion ?? null,
      ...(x.key ? { key: x.key } : {}),
    },
  ];
  state.store.saveMeta(meta);
  if (reviewed?.output?.title === undefined) return;
  // A fork's reused node shows the origin run's document; only an edit makes it one of this run.
  if (reviewed.reusedFrom !== undefined && x.editedVersion === undefined) return;
  state.store.enqueue({
    kind: 'document',
    nodeId: reviewed.id,
    version: reviewed.docVersion ?? 1,
    title: reviewed.output.title,
    text: reviewed.output.text,
    ...(x.editedVersion !== undefined && x.actor !== null ? { by: x.actor } : {}),
  });
}

/** An edit or a request for changes at a waiting approval node (approve and reject are decideApproval's). */
export function decideReview(state: RunState, meta: RunMeta, rec: NodeRecord, def: Approval, s: ApprovalSignal): SignalResult {
  const target = reviewedNode(def, state.nodes());
  if (!target)
    return {
      ok: false,
      code: 'conflict',
      message: `approval node ${def.id} reviews no document (none of its dependencies wrote one): approve or reject it`,
    };
  const comment = s.comment ?? null;
  const decided = (text: string, data: Record<string, unknown>) => {
    rec.attempts = 1;
    rec.output = { text, data: { decision: s.decision, comment, actor_user_id: s.actor, timed_out: false, ...data } };
  };
  if (s.decision === 'edit') {
    const text = s.content!;
    // A node a fork reused has no document in this run yet: the reviewer's text becomes its first version.
    const version = (target.docVersion ?? (target.reusedFrom === undefined ? 1 : 0)) + 1;
    target.output = { ...target.output!, text, title: s.title ?? titleOf(text) };
    target.docVersion = version;
    state.save(target);
    decided('approved', { approved: true, edited: { node_id: target.id, version } });
    state.emit('node.edited', rec.id, { reviewed_node: target.id, version, comment, actor_user_id: s.actor });
    logReview(state, def.id, 'edit', { comment, actor: s.actor, editedVersion: version, key: s.key });
    state.finishNode(rec, 'succeeded', null);
    return { ok: true };
  }
  const loop = loopsOf(meta.nodes).get(def.id);
  const asked = (meta.reviews ?? []).filter((r) => r.node_id === def.id && r.decision === 'request_changes').length;
  if (!loop && asked >= MAX_CHANGE_REQUESTS)
    return {
      ok: false,
      code: 'conflict',
      message: `changes were requested at ${def.id} ${asked} times, the most it accepts: approve, edit or reject`,
    };
  state.emit('node.changes_requested', rec.id, { reviewed_node: target.id, comment, actor_user_id: s.actor });
  logReview(state, def.id, 'request_changes', { comment, actor: s.actor, key: s.key });
  if (loop) {
    // The iteration ends here: the loop (loop.ts) sees the request and goes round again.
    decided('changes_requested', { approved: false });
    state.finishNode(rec, 'succeeded', null);
    for (const id of after(def.id, loop.body, meta.nodes)) {
      const r = state.nodes().get(id);
      if (r?.status === 'pending') state.finishNode(r, 'skipped', null);
    }
    return { ok: true };
  }
  // The reviewed node runs again (a new version of its document), then the approval asks again.
  for (const r of [target, rec]) {
    Object.assign(r, {
      status: 'pending',
      attempts: 0,
      nextAttemptAt: null,
      pendingDelayMs: 0,
      startedAt: null,
      finishedAt: null,
      output: null,
      error: null,
      waitUntil: null,
      contextCompacted: false,
      reusedFrom: undefined,
    });
    state.save(r);
  }
  return { ok: true };
}

/** The nodes of a loop's body that depend, directly or not, on `id`. */
function after(id: string, body: string[], defs: WorkflowNode[]): string[] {
  const found = new Set<string>([id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const d of defs)
      if (body.includes(d.id) && !found.has(d.id) && d.depends_on.some((x) => found.has(x))) {
        found.add(d.id);
        grew = true;
      }
  }
  found.delete(id);
  return [...found];
}

/** Whether an iteration's approval sent it back (request_changes): the loop then goes round again. */
export function sentBack(body: NodeRecord[]): boolean {
  return body.some((b) => b.output?.data?.decision === 'request_changes');
}
