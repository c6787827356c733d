import { log } from '../lib/log';
import type { WorkflowNode } from './definition';
import type { Effect, Effects } from './ports';
import type { RunState } from './state';
import { render, type TemplateContext } from './template';
import type { NodeRecord, RunMeta } from './types';

/*
 * Nodes whose work is an effect outside the run: `notify` sends through the notifications service,
 * `task` submits a background task (and, unless `wait: false`, waits for its result). Each is
 * asked of the Effects port under a key made of the run, the node and the attempt, and the port
 * makes that key idempotent: asking again — after an eviction, a redelivered wake-up, a poll —
 * finds what the first ask did instead of doing it again. So the node parks as `waiting` with a
 * poll deadline before anything is asked, and every poll asks again with the same key until the
 * effect is done: exactly one delivery or task per node attempt, however often it is asked.
 */

/** How soon an unanswered or unfinished effect is asked again. */
export const EFFECT_POLL_MS = 2_000;

type Notify = Extract<WorkflowNode, { type: 'notify' }>;
type Task = Extract<WorkflowNode, { type: 'task' }>;

export type EffectHost = {
  readonly state: RunState;
  readonly host: { waitUntil(p: Promise<unknown>): void };
  readonly ports: { effects: Effects; logLevel: string | undefined };
  wake(): Promise<void>;
  contextFor(meta: RunMeta, nodeId: string): TemplateContext;
};

/** Strings anywhere in a task's payload are templates. */
function renderDeep(value: unknown, ctx: TemplateContext): unknown {
  if (typeof value === 'string') return render(value, ctx);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, ctx));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, ctx)]));
  return value;
}

function effectOf(def: Notify | Task, ctx: TemplateContext): Effect {
  if (def.type === 'task') {
    return { kind: 'task', taskType: def.task_type, payload: renderDeep(def.payload, ctx) as Record<string, unknown>, wait: def.wait };
  }
  const variables = def.variables && Object.fromEntries(Object.entries(def.variables).map(([k, v]) => [k, render(v, ctx)]));
  return {
    kind: 'notify',
    channel: def.channel,
    recipient: render(def.recipient, ctx),
    subject: def.subject === undefined ? undefined : render(def.subject, ctx),
    message: def.message === undefined ? undefined : render(def.message, ctx),
    templateId: def.template_id,
    variables,
  };
}

/** The key that makes this attempt's effect happen once. */
const keyOf = (meta: RunMeta, rec: NodeRecord) => `run:${meta.runId}:${rec.id}:${rec.attempts + 1}`;

/** Parks the node, then asks for its effect (after this turn, so the parked state is saved first). */
export function startEffect(d: EffectHost, meta: RunMeta, rec: NodeRecord, def: Notify | Task): void {
  rec.status = 'waiting';
  rec.waitUntil = Date.now() + EFFECT_POLL_MS;
  d.state.save(rec);
  d.state.emitFor(rec, 'waiting', { reason: def.type });
  d.host.waitUntil(ask(d, meta, rec.id, def));
}

/** The poll deadline passed with no answer: ask again, with the same key. */
export function pollEffect(d: EffectHost, meta: RunMeta, rec: NodeRecord, def: Notify | Task): void {
  rec.waitUntil = Date.now() + EFFECT_POLL_MS;
  d.state.save(rec);
  d.host.waitUntil(ask(d, meta, rec.id, def));
}

async function ask(d: EffectHost, meta: RunMeta, id: string, def: Notify | Task): Promise<void> {
  const rec = d.state.nodes().get(id);
  if (rec?.status !== 'waiting') return;
  const key = keyOf(meta, rec);
  let outcome: Awaited<ReturnType<Effects['perform']>>;
  try {
    outcome = await d.ports.effects.perform(meta.ownerId, key, effectOf(def, d.contextFor(meta, id)));
  } catch (err) {
    // Not an answer (D1 or a queue hiccup): the next poll asks again with the same key.
    log(d.ports.logLevel, 'warn', 'effect not confirmed; asking again at the next poll', {
      runId: meta.runId,
      node: id,
      error: err instanceof Error ? err.message : String(err),
    });
    return;
  }
  const current = d.state.nodes().get(id);
  if (current?.status !== 'waiting' || keyOf(meta, current) !== key) return;
  if (outcome.status === 'pending') {
    if (!current.output) {
      // The first time the effect is known to exist: say so in the stream (a task's id).
      current.output = { text: '', data: outcome.data };
      d.state.save(current);
      d.state.emitFor(current, 'effect_started', outcome.data);
    }
    return;
  }
  current.attempts += 1;
  current.output = { text: outcome.text, data: outcome.data };
  d.state.finishNode(current, outcome.status === 'done' ? 'succeeded' : 'failed', outcome.status === 'done' ? null : outcome.error);
  await d.wake();
}
