import type { WorkflowNode } from './definition';
import { MinHeap } from './heap';
import { DONE_NODE, type MapItem, type NodeRecord, type NodeStatus, parseItemKey } from './types';

/*
 * What the driver asks at every step — which nodes can start, which must be skipped, what falls
 * due next, whether anything is still open — answered from indexes kept up to date as records
 * change, so a step costs the same whatever the size of the graph or of a map's list. The indexes
 * are derived: RunState builds them from the stored records the first time an incarnation needs
 * them and feeds them every save after that. Nothing here is stored, so a run stored before they
 * existed, or by another incarnation, resumes with indexes rebuilt from its records.
 *
 * The scheduling rules (once in graph.ts's nextStep, which scanned every node at every step):
 * - a node is ready when every dependency is done and at least one of them did not skip (so a
 *   node after a branch's two arms runs whichever arm was taken), and none failed or was cancelled;
 * - a node is skipped when all its dependencies skipped, or when it is a branch target that the
 *   branch did not choose;
 * - a loop's body node waits for its loop to be running (an iteration under way), and is skipped
 *   with it.
 * Each node keeps counts of its dependencies by outcome (open, succeeded, skipped, failed), moved
 * only when a dependency's outcome changes, so a node that finishes touches only its dependents.
 */

type Loop = Extract<WorkflowNode, { type: 'loop' }>;
type Branch = Extract<WorkflowNode, { type: 'branch' }>;
type Outcome = 'open' | 'ok' | 'skip' | 'bad';
type Verdict = 'ready' | 'skip';
/** A record in retry_wait or waiting, and the time it falls due (-Infinity: at once). */
type Timer = { at: number; rec: NodeRecord };

const outcomeOf = (s: NodeStatus | undefined): Outcome =>
  s === 'succeeded' ? 'ok' : s === 'skipped' ? 'skip' : s === 'failed' || s === 'cancelled' ? 'bad' : 'open';

/** When a record falls due by itself: a retry's next attempt, a wait's end; null when it does not. */
function dueAt(rec: NodeRecord): number | null {
  if (rec.status === 'retry_wait') return rec.nextAttemptAt ?? Number.NEGATIVE_INFINITY;
  if (rec.status === 'waiting') return rec.waitUntil ?? Number.NEGATIVE_INFINITY;
  return null;
}

/** Keys by their last seen status, with the set of keys in each status. */
export class StatusSets<K> {
  private readonly last = new Map<K, NodeStatus>();
  private readonly sets = new Map<NodeStatus, Set<K>>();

  /** Records `key`'s status; returns the one it had (undefined for a new key). */
  set(key: K, status: NodeStatus): NodeStatus | undefined {
    const before = this.last.get(key);
    if (before === status) return before;
    if (before !== undefined) this.sets.get(before)?.delete(key);
    this.last.set(key, status);
    let set = this.sets.get(status);
    if (!set) this.sets.set(status, (set = new Set()));
    set.add(key);
    return before;
  }

  status(key: K): NodeStatus | undefined {
    return this.last.get(key);
  }

  keys(status: NodeStatus): ReadonlySet<K> {
    return this.sets.get(status) ?? new Set();
  }

  count(...statuses: NodeStatus[]): number {
    return statuses.reduce((n, s) => n + (this.sets.get(s)?.size ?? 0), 0);
  }
}

/** A map's items by status, and its pending items in list order (the order they start in). */
export class MapIndex {
  readonly statuses = new StatusSets<number>();
  private readonly pending = new MinHeap<number>((a, b) => a < b);

  constructor(readonly items: MapItem[]) {
    items.forEach(({ rec }, i) => {
      this.observe(i, rec);
    });
  }

  observe(index: number, rec: NodeRecord): void {
    const before = this.statuses.set(index, rec.status);
    if (rec.status === 'pending' && before !== 'pending') this.pending.push(index);
  }

  /** The first pending item in list order. */
  nextPending(): number | undefined {
    for (let i = this.pending.peek(); i !== undefined; i = this.pending.peek()) {
      if (this.statuses.status(i) === 'pending') return i;
      this.pending.pop();
    }
    return undefined;
  }

  /** The failed item first in the list, if any. */
  firstFailed(): number | undefined {
    let first: number | undefined;
    for (const i of this.statuses.keys('failed')) if (first === undefined || i < first) first = i;
    return first;
  }

  allDone(): boolean {
    return this.statuses.count(...DONE_NODE) === this.items.length;
  }
}

export class RunSchedule {
  /** Records looked at (scheduling, items, timers) and scheduling passes: tests count these to show a step's cost. */
  readonly counters = { visits: 0, passes: 0 };
  /** Top-level nodes by status. */
  readonly statuses = new StatusSets<string>();
  /** Running map and loop nodes: they move on with their items or body, not by an attempt of their own. */
  readonly composites = new Set<string>();
  private readonly defs = new Map<string, WorkflowNode>();
  private readonly position = new Map<string, number>();
  private readonly dependents = new Map<string, string[]>();
  private readonly loops = new Map<string, Loop>();
  /** A node's dependencies that are branches naming it as a target. */
  private readonly branchDeps = new Map<string, Branch[]>();
  private readonly depCounts = new Map<string, Record<Outcome, number>>();
  private readonly verdicts = new Map<string, Verdict>();
  private readonly ready = new MinHeap<number>((a, b) => a < b);
  private readonly skips = new Set<string>();
  /** While starts are under way, nodes they make ready wait here for the next pass (as before: a pass starts what was ready when it began). */
  private deferred: number[] | null = null;
  private readonly timers = new MinHeap<Timer>((a, b) => a.at < b.at);
  private readonly maps = new Map<string, MapIndex>();

  constructor(
    private readonly order: WorkflowNode[],
    private readonly records: Map<string, NodeRecord>,
    private readonly itemsOf: (mapId: string) => MapItem[],
  ) {
    order.forEach((d, i) => {
      this.defs.set(d.id, d);
      this.position.set(d.id, i);
      for (const dep of d.depends_on) {
        const list = this.dependents.get(dep);
        if (list) list.push(d.id);
        else this.dependents.set(dep, [d.id]);
      }
      if (d.type === 'loop') for (const b of d.body) this.loops.set(b, d);
    });
    for (const d of order) {
      const counts = { open: 0, ok: 0, skip: 0, bad: 0 };
      for (const dep of d.depends_on) counts[outcomeOf(records.get(dep)?.status)]++;
      this.depCounts.set(d.id, counts);
      const branches = d.depends_on
        .map((dep) => this.defs.get(dep))
        .filter((b): b is Branch => b?.type === 'branch' && (b.then.includes(d.id) || b.else.includes(d.id)));
      if (branches.length) this.branchDeps.set(d.id, branches);
    }
    for (const rec of records.values()) {
      this.counters.visits++;
      this.statuses.set(rec.id, rec.status);
      this.track(rec);
      const type = this.defs.get(rec.id)?.type;
      if ((type === 'map' || type === 'loop') && rec.status === 'running') this.composites.add(rec.id);
      if (type === 'map' && rec.status === 'running') this.map(rec.id);
    }
    for (const d of order) this.classify(d.id);
  }

  def(id: string): WorkflowNode | undefined {
    return this.defs.get(id);
  }

  /** The loop whose body holds this node. */
  loopOf(id: string): Loop | undefined {
    return this.loops.get(id);
  }

  /** Sorts node ids in definition order (the order every pass handles them in). */
  inOrder(ids: Iterable<string>): string[] {
    return [...ids].sort((a, b) => (this.position.get(a) ?? 0) - (this.position.get(b) ?? 0));
  }

  /** Top-level nodes not yet done. */
  openCount(): number {
    return this.records.size - this.statuses.count(...DONE_NODE);
  }

  /** The failed node first in definition order. */
  firstFailed(): NodeRecord | undefined {
    const [id] = this.inOrder(this.statuses.keys('failed'));
    return id === undefined ? undefined : this.records.get(id);
  }

  // ---- changes -------------------------------------------------------------------------------

  /** A node's record was saved: move it between sets, and its dependents' counts if its outcome changed. */
  observe(rec: NodeRecord): void {
    this.track(rec);
    const before = this.statuses.set(rec.id, rec.status);
    if (before === rec.status) return;
    const def = this.defs.get(rec.id);
    if (def?.type === 'map' || def?.type === 'loop') {
      if (rec.status === 'running') this.composites.add(rec.id);
      else this.composites.delete(rec.id);
    }
    const was = outcomeOf(before);
    const now = outcomeOf(rec.status);
    if (was !== now) {
      for (const id of this.dependents.get(rec.id) ?? []) {
        const counts = this.depCounts.get(id)!;
        counts[was]--;
        counts[now]++;
        this.classify(id);
      }
    }
    this.classify(rec.id);
    if (def?.type === 'loop') for (const b of def.body) this.classify(b);
  }

  /** A map item's record was saved. */
  observeItem(mapId: string, index: number, rec: NodeRecord): void {
    const map = this.maps.get(mapId);
    if (map?.items[index]?.rec !== rec) return;
    this.counters.visits++;
    map.observe(index, rec);
    this.track(rec);
  }

  /** A map's items were (re)made: index them afresh. */
  setItems(mapId: string, items: MapItem[]): MapIndex {
    const map = new MapIndex(items);
    this.maps.set(mapId, map);
    for (const { rec } of items) {
      this.counters.visits++;
      this.track(rec);
    }
    return map;
  }

  /** A map's item index, built from its stored items the first time it is asked for. */
  map(mapId: string): MapIndex {
    return this.maps.get(mapId) ?? this.setItems(mapId, this.itemsOf(mapId));
  }

  // ---- what can start ------------------------------------------------------------------------

  /** Pending nodes that must be skipped now, in definition order. */
  skipsNow(): string[] {
    return this.inOrder(this.skips);
  }

  /** Starts what `start` is given, first ready node first, while `more()` holds; returns how many started. */
  startReady(more: () => boolean, start: (id: string) => void): number {
    this.deferred = [];
    let started = 0;
    try {
      for (let id = this.peekReady(); id !== undefined && more(); id = this.peekReady()) {
        const pos = this.ready.pop()!;
        start(id);
        started++;
        // A node that is still ready (it could not leave pending) is looked at again next pass.
        if (this.verdicts.get(id) === 'ready') this.deferred.push(pos);
      }
    } finally {
      for (const pos of this.deferred) this.ready.push(pos);
      this.deferred = null;
    }
    return started;
  }

  private peekReady(): string | undefined {
    for (let pos = this.ready.peek(); pos !== undefined; pos = this.ready.peek()) {
      this.counters.visits++;
      const id = this.order[pos]!.id;
      if (this.verdicts.get(id) === 'ready') return id;
      this.ready.pop();
    }
    return undefined;
  }

  /** Re-decides one node: ready, to skip, or neither (not pending, or waiting for something). */
  private classify(id: string): void {
    this.counters.visits++;
    const def = this.defs.get(id);
    const verdict = def && this.records.get(id)?.status === 'pending' ? this.decide(def) : null;
    const before = this.verdicts.get(id) ?? null;
    if (verdict === before) return;
    if (before === 'skip') this.skips.delete(id);
    if (verdict === null) this.verdicts.delete(id);
    else this.verdicts.set(id, verdict);
    if (verdict === 'skip') this.skips.add(id);
    if (verdict === 'ready') (this.deferred ?? this.ready).push(this.position.get(id)!);
  }

  private decide(def: WorkflowNode): Verdict | null {
    const loop = this.loops.get(def.id);
    if (loop) {
      const status = this.records.get(loop.id)?.status;
      if (status === 'skipped' || status === 'cancelled') return 'skip';
      if (status !== 'running') return null;
    }
    const counts = this.depCounts.get(def.id)!;
    if (counts.open > 0 || counts.bad > 0) return null;
    const allSkipped = def.depends_on.length > 0 && counts.skip === def.depends_on.length;
    return allSkipped || this.branchExcluded(def) ? 'skip' : 'ready';
  }

  /** A branch target that its branch (done) did not choose. */
  private branchExcluded(def: WorkflowNode): boolean {
    for (const branch of this.branchDeps.get(def.id) ?? []) {
      const rec = this.records.get(branch.id);
      if (rec?.status !== 'succeeded') continue;
      const chosen = rec.output?.data?.chosen;
      if (Array.isArray(chosen) && !chosen.includes(def.id)) return true;
    }
    return false;
  }

  // ---- what falls due ------------------------------------------------------------------------

  /** Keeps a record in retry_wait or waiting among the timers (stale entries are dropped when met). */
  track(rec: NodeRecord): void {
    const at = dueAt(rec);
    if (at !== null) this.timers.push({ at, rec });
  }

  /** Timed records due by `now` (nodes', and items' of running maps), each once; call track() to keep one that cannot move on yet. */
  takeDue(now: number): NodeRecord[] {
    const due = new Set<NodeRecord>();
    for (let t = this.timers.peek(); t !== undefined && t.at <= now; t = this.timers.peek()) {
      this.timers.pop();
      if (this.live(t)) due.add(t.rec);
    }
    return [...due];
  }

  /** The earliest time a record falls due, or null. */
  nextDue(): number | null {
    for (let t = this.timers.peek(); t !== undefined; t = this.timers.peek()) {
      if (this.live(t)) return t.at === Number.NEGATIVE_INFINITY ? Date.now() : t.at;
      this.timers.pop();
    }
    return null;
  }

  /** Whether a timer still stands: its record is current, in the same timed state, for the same time. */
  private live(t: Timer): boolean {
    this.counters.visits++;
    if (dueAt(t.rec) !== t.at) return false;
    const item = parseItemKey(t.rec.id);
    if (!item) return this.records.get(t.rec.id) === t.rec;
    return this.maps.get(item.mapId)?.items[item.index]?.rec === t.rec && this.records.get(item.mapId)?.status === 'running';
  }
}
