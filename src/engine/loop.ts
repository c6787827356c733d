import { evaluateCondition } from './condition';
import type { WorkflowNode } from './definition';
import type { RunState } from './state';
import { sentBack } from './review';
import { render, type TemplateContext } from './template';
import { DONE_NODE, type LoopState, NodeError, type NodeRecord, type RunMeta } from './types';

/*
 * A loop node runs its body of nodes again until its condition holds or `max_iterations` pass.
 * An iteration is the body run once, in its own dependency order; when every body node is done,
 * the condition is checked (against that iteration's outputs). To go again, the body's records
 * are reset to pending and the outputs kept as `loop.previous`, so `{{loop.previous.draft.output}}`
 * reads what the last iteration wrote. Each iteration's documents are versions of the body node's
 * document. The loop's state lives in its node record, saved with every step, so an eviction
 * resumes the iteration it was in.
 */

type LoopNode = Extract<WorkflowNode, { type: 'loop' }>;
type LoopHost = { readonly state: RunState; contextFor(meta: RunMeta, nodeId: string): TemplateContext };

const PREVIEW = 280;

/** The `loop` root of a body node's templates. */
export const loopContext = (s: LoopState): NonNullable<TemplateContext['loop']> => ({
  iteration: s.iteration,
  previous: Object.fromEntries(Object.entries(s.previous).map(([id, output]) => [id, { output }])),
});

export function startLoop(h: LoopHost, rec: NodeRecord, def: LoopNode): void {
  rec.status = 'running';
  rec.loop = { iteration: 1, previous: {}, iterations: [] };
  h.state.save(rec);
  h.state.emit('loop.iteration', def.id, { iteration: 1, max_iterations: def.max_iterations });
}

/**
 * A running loop whose body is done: record the iteration, then end (the condition holds, or the
 * cap is reached) or start the next iteration. Returns whether anything changed.
 */
export function advanceLoop(h: LoopHost, meta: RunMeta, rec: NodeRecord, def: LoopNode): boolean {
  const { state } = h;
  const nodes = state.nodes();
  const body = def.body.map((id) => nodes.get(id)!);
  // A failed body node fails the run on its own; a loop only moves on a finished iteration.
  if (!body.every((b) => DONE_NODE.includes(b.status)) || body.some((b) => b.status === 'failed' || b.status === 'cancelled')) return false;
  const loop = rec.loop!;
  loop.iterations.push({
    iteration: loop.iteration,
    outputs: Object.fromEntries(
      body.map((b) => [b.id, b.output ? { preview: b.output.text.slice(0, PREVIEW), document_id: b.output.documentId ?? null } : null]),
    ),
  });
  let holds: boolean;
  try {
    const ctx = h.contextFor(meta, def.body[0]!);
    const right = typeof def.until.right === 'string' ? render(def.until.right, ctx) : def.until.right;
    // A reviewer who requested changes sends the loop round again, whatever its condition says.
    holds = !sentBack(body) && evaluateCondition(def.until.operator, render(def.until.left, ctx), right);
  } catch (err) {
    rec.attempts = loop.iteration;
    state.finishNode(rec, 'failed', err instanceof NodeError ? err.message : String(err), { retryable: false });
    return true;
  }
  if (holds || loop.iteration >= def.max_iterations) {
    rec.attempts = loop.iteration;
    const stopped = holds ? 'condition' : 'max_iterations';
    state.emit('loop.finished', def.id, { iterations: loop.iteration, stopped });
    if (!holds && def.on_max === 'fail') {
      state.finishNode(rec, 'failed', `the loop's condition did not hold after ${def.max_iterations} iterations`, { retryable: false });
      return true;
    }
    const last = [...body].reverse().find((b) => b.output);
    rec.output = { text: last?.output?.text ?? '', data: { iterations: loop.iteration, stopped, history: loop.iterations } };
    rec.tokensIn = body.reduce((n, b) => n + b.tokensIn, 0);
    rec.tokensOut = body.reduce((n, b) => n + b.tokensOut, 0);
    rec.costUsd = body.reduce((n, b) => n + (b.costUsd ?? 0), 0);
    state.finishNode(rec, 'succeeded', null);
    return true;
  }
  loop.previous = Object.fromEntries(body.map((b) => [b.id, b.output]));
  loop.iteration += 1;
  for (const b of body) {
    // Attempt numbers go on counting (they number the attempt records); tokens add up across iterations.
    Object.assign(b, {
      status: 'pending',
      attempts: 0,
      nextAttemptAt: null,
      pendingDelayMs: 0,
      startedAt: null,
      finishedAt: null,
      output: null,
      error: null,
      waitUntil: null,
      childRunId: null,
      contextCompacted: false,
    });
    state.save(b);
    if (state.schedule().def(b.id)?.type === 'map') state.setItems(b.id, []);
  }
  state.save(rec);
  state.emit('loop.iteration', def.id, { iteration: loop.iteration, max_iterations: def.max_iterations });
  return true;
}
