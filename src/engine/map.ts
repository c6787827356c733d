import { type AttemptHost, Stopped, startAttempt } from './attempt';
import type { WorkflowNode } from './definition';
import type { RunState } from './state';
import { resolveValue, soleRef, type TemplateContext } from './template';
import { DONE_NODE, itemKey, newNodeRecord, type NodeRecord, parseItemKey, type RunMeta } from './types';
import { pollSubchain, startSubchain, type WaitHost } from './waits';

/*
 * A map node runs one node template per item of a list from upstream, at most `concurrency` at a
 * time. The list is read once, when the map starts, and stored with one record per item in the
 * run's storage; each item is then driven like a node of its own (attempts, retries, timeouts,
 * a subchain's child run), so an item that finished before an eviction is never run again. The
 * map ends when every item has (or, with `fail_fast`, when one item failed), and its output is
 * the items' outputs in list order and their texts joined.
 */

type MapNode = Extract<WorkflowNode, { type: 'map' }>;
type MapHost = AttemptHost & WaitHost;

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'string' ? 'text' : `a ${typeof v}`);

/** The node one item runs: the map's template, under the map's id, with the map's timeout. */
function itemNode(def: MapNode): WorkflowNode {
  return { ...def.node, id: def.id, depends_on: [], timeout_seconds: def.timeout_seconds } as WorkflowNode;
}

const itemContext = (state: RunState, meta: RunMeta, item: unknown, index: number): TemplateContext => ({
  ...state.templateContext(meta),
  item,
  index,
});

/** Reads the list, checks it, stores one record per item; the map then runs in advanceMap. */
export function startMap(h: MapHost, meta: RunMeta, rec: NodeRecord, def: MapNode): void {
  const { state } = h;
  rec.startedAt ??= Date.now();
  const list = resolveValue(soleRef(def.items) ?? [], state.templateContext(meta));
  const fail = (error: string) => {
    rec.attempts = 1;
    state.finishNode(rec, 'failed', error, { retryable: false });
  };
  if (!Array.isArray(list)) {
    fail(`items must be a list; ${def.items} is ${typeOf(list)}`);
    return;
  }
  if (list.length > def.max_items) {
    fail(`the list has ${list.length} items; max_items is ${def.max_items}`);
    return;
  }
  state.setItems(
    def.id,
    list.map((item, i) => ({ item, rec: newNodeRecord(itemKey(def.id, i)) })),
  );
  rec.status = 'running';
  state.save(rec);
  state.emit('map.started', def.id, { items: list.length, concurrency: def.concurrency, on_item_failure: def.on_item_failure });
  advanceMap(h, meta, rec, def);
}

/**
 * One pass over a running map: its items that fell due (`due`, from the run's timers), its end,
 * and new items up to the concurrency. The map's item index (schedule.ts) answers which items
 * are pending, running or failed, so a pass costs the same however long the list is.
 */
export function advanceMap(h: MapHost, meta: RunMeta, rec: NodeRecord, def: MapNode, due: NodeRecord[] = []): void {
  const { state } = h;
  const schedule = state.schedule();
  const index = schedule.map(def.id);
  const { items } = index;
  const now = Date.now();
  for (const r of [...due].sort((a, b) => parseItemKey(a.id)!.index - parseItemKey(b.id)!.index)) {
    if (r.status === 'retry_wait' && r.nextAttemptAt !== null && r.nextAttemptAt <= now) {
      r.status = 'pending';
      state.save(r);
    } else if (r.status === 'waiting' && r.childRunId !== null && r.waitUntil !== null && r.waitUntil <= now) {
      pollSubchain(h, r);
    } else {
      schedule.track(r);
    }
  }
  const failed = index.firstFailed();
  if (failed !== undefined && def.on_item_failure === 'fail_fast') {
    failMap(h, meta, rec, def, items, items[failed]!.rec);
    return;
  }
  if (index.allDone()) {
    finishMap(state, rec, items);
    return;
  }
  let running = index.statuses.count('running', 'waiting');
  for (let next = index.nextPending(); next !== undefined && running < def.concurrency; next = index.nextPending()) {
    const { item, rec: r } = items[next]!;
    running++;
    const ctx = itemContext(state, meta, item, next);
    if (def.node.type === 'subchain') startSubchain(h, meta, r, itemNode(def) as Extract<WorkflowNode, { type: 'subchain' }>, ctx);
    else startAttempt(h, meta, r, itemNode(def), ctx);
    if (r.status === 'pending') break;
  }
}

/** `fail_fast`: the first failed item ends the map; items still running are stopped, the others cancelled. */
function failMap(h: MapHost, meta: RunMeta, rec: NodeRecord, def: MapNode, items: { rec: NodeRecord }[], failed: NodeRecord): void {
  const reason = `item ${items.findIndex((i) => i.rec === failed)} failed: ${failed.error ?? 'no error recorded'}`;
  for (const { rec: r } of items) {
    if (DONE_NODE.includes(r.status)) continue;
    if (r.childRunId !== null) h.host.waitUntil(h.ports.children.cancel(r.childRunId, `map ${def.id} of run ${meta.runId} failed`));
    const running = h.executions.get(r.id);
    if (running) running.controller.abort(new Stopped(`another item failed: ${reason}`));
    else h.state.finishNode(r, 'cancelled', 'another item failed');
  }
  totals(rec, items);
  h.state.finishNode(rec, 'failed', reason, { retryable: false });
}

function finishMap(state: RunState, rec: NodeRecord, items: { rec: NodeRecord }[]): void {
  const outputs = items.map(({ rec: r }, index) => ({
    index,
    status: r.status,
    text: r.output?.text ?? null,
    data: r.output?.data ?? null,
    error: r.error,
  }));
  const succeeded = outputs.filter((o) => o.status === 'succeeded');
  totals(rec, items);
  rec.output = {
    text: succeeded.map((o) => o.text).join('\n\n'),
    data: { items: outputs, count: outputs.length, succeeded: succeeded.length, failed: outputs.length - succeeded.length },
  };
  state.finishNode(rec, 'succeeded', null);
}

/** A map's attempts and tokens are its items'. */
function totals(rec: NodeRecord, items: { rec: NodeRecord }[]): void {
  rec.attempts = items.reduce((n, i) => n + i.rec.attempts, 0);
  rec.tokensIn = items.reduce((n, i) => n + i.rec.tokensIn, 0);
  rec.tokensOut = items.reduce((n, i) => n + i.rec.tokensOut, 0);
  rec.costUsd = items.reduce((n, i) => n + (i.rec.costUsd ?? 0), 0);
  const first = items.find((i) => i.rec.provider !== null)?.rec;
  Object.assign(rec, { provider: first?.provider ?? null, model: first?.model ?? null });
}
