import type { DomainEvent } from '../lib/events';
import { RunBroadcast } from './broadcast';
import { NodeViews } from './node-views';
import { RunSchedule } from './schedule';
import { type AttemptRow, RunStore } from './storage';
import type { TemplateContext } from './template';
import { type MapItem, type NodeRecord, parseItemKey, type RunEvent, type RunMeta, TERMINAL_RUN } from './types';

/** What an attempt record carries besides its node, number, outcome and start. */
export type AttemptDetail = {
  delayMs?: number;
  error?: string;
  retryable?: boolean;
  provider?: string | undefined;
  model?: string | undefined;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number | null;
};

/**
 * A run's state and every change to it. Each change is saved to the object's storage at once,
 * with the event that reports it (and, for D1 and other features, its outbox entry), in the same
 * storage turn, so they are durable together. The driver (driver.ts), the waits (waits.ts) and the
 * engine's operations (engine.ts) all change the run through this.
 */
export class RunState {
  readonly store: RunStore;
  readonly broadcast: RunBroadcast;
  // Write-through caches of the stored state. One incarnation has exactly one meta object and one
  // record per node, so the driver loop, RPCs (cancel, pause) and completions all see each
  // other's changes; every change is also saved to storage at once.
  private cachedMeta: RunMeta | null = null;
  private cachedNodes: Map<string, NodeRecord> | null = null;
  private readonly cachedItems = new Map<string, MapItem[]>();
  // Derived from the records above (schedule.ts) and never stored: rebuilt by each incarnation.
  private cachedSchedule: RunSchedule | null = null;
  private cachedViews: NodeViews | null = null;

  /** `onEmit` runs after each event is stored (the run publishes it to its workflow's room). */
  constructor(sql: SqlStorage, onEmit: () => void) {
    this.store = new RunStore(sql);
    this.broadcast = new RunBroadcast(this.store, onEmit);
  }

  /** The run's state was created (start): it becomes the cached state of this incarnation. */
  adopt(meta: RunMeta, nodes: Map<string, NodeRecord>): void {
    this.cachedMeta = meta;
    this.cachedNodes = nodes;
    this.cachedSchedule = null;
    this.cachedViews = null;
  }

  hasRun(): boolean {
    return this.cachedMeta !== null || this.store.meta() !== null;
  }

  meta(): RunMeta {
    this.cachedMeta ??= this.store.meta();
    if (!this.cachedMeta) throw new Error('run not started');
    return this.cachedMeta;
  }

  /** The run's state if it has one, without failing (the room publisher may run before start). */
  metaIfAny(): RunMeta | null {
    return this.cachedMeta ?? this.store.meta();
  }

  nodes(): Map<string, NodeRecord> {
    this.cachedNodes ??= this.store.nodes();
    return this.cachedNodes;
  }

  /** The scheduling indexes of this incarnation, built from the records the first time they are needed. */
  schedule(): RunSchedule {
    this.cachedSchedule ??= new RunSchedule(this.meta().nodes, this.nodes(), (mapId) => this.items(mapId));
    return this.cachedSchedule;
  }

  emit(type: string, nodeId: string | null, data: Record<string, unknown>): RunEvent {
    return this.broadcast.emit(type, nodeId, data);
  }

  /** A map node's items, in order. */
  items(mapId: string): MapItem[] {
    let items = this.cachedItems.get(mapId);
    if (!items) this.cachedItems.set(mapId, (items = this.store.items(mapId)));
    return items;
  }

  setItems(mapId: string, items: MapItem[]): void {
    this.store.deleteItems(mapId);
    this.store.addItems(mapId, items);
    this.cachedItems.set(mapId, items);
    this.cachedSchedule?.setItems(mapId, items);
  }

  /** A node's record, or a map item's (`<map>[<index>]`). */
  record(id: string): NodeRecord | undefined {
    const item = parseItemKey(id);
    return item ? this.items(item.mapId)[item.index]?.rec : this.nodes().get(id);
  }

  /** Saves a node's or an item's record. */
  save(rec: NodeRecord): void {
    const item = parseItemKey(rec.id);
    if (item) {
      this.store.saveItem(item.mapId, item.index, rec);
      this.cachedSchedule?.observeItem(item.mapId, item.index, rec);
    } else {
      this.store.saveNode(rec);
      this.cachedSchedule?.observe(rec);
      this.cachedViews?.record(rec);
    }
  }

  /** Emits an event about a node, or about an item of a map (then under the map's id, with the item's index). */
  emitFor(rec: NodeRecord, type: string, data: Record<string, unknown>): RunEvent {
    const item = parseItemKey(rec.id);
    return item ? this.emit(`map.item_${type}`, item.mapId, { index: item.index, ...data }) : this.emit(`node.${type}`, rec.id, data);
  }

  finishNode(
    rec: NodeRecord,
    status: 'succeeded' | 'failed' | 'skipped' | 'cancelled',
    error: string | null,
    extra: Record<string, unknown> = {},
  ): void {
    Object.assign(rec, { status, error, finishedAt: Date.now(), nextAttemptAt: null, waitUntil: null });
    this.save(rec);
    const data: Record<string, unknown> = { ...extra, attempts: rec.attempts };
    if (status === 'succeeded' && rec.output) {
      Object.assign(data, {
        title: rec.output.title ?? null,
        preview: rec.output.text.slice(0, 280),
        provider: rec.provider,
        model: rec.model,
        tokens_in: rec.tokensIn,
        tokens_out: rec.tokensOut,
      });
    }
    if (error) data.error = error;
    this.emitFor(rec, status, data);
  }

  /** One attempt's record, for the node_attempts projection. */
  recordAttempt(rec: NodeRecord, attemptNo: number, status: AttemptRow['status'], startedAt: number, x: AttemptDetail): void {
    const attempt: AttemptRow = {
      nodeId: rec.id,
      attempt: attemptNo,
      status,
      startedAt,
      finishedAt: Date.now(),
      delayMs: x.delayMs ?? 0,
      error: x.error ?? null,
      retryable: x.retryable ?? null,
      provider: x.provider ?? null,
      model: x.model ?? null,
      tokensIn: x.tokensIn ?? 0,
      tokensOut: x.tokensOut ?? 0,
      costUsd: x.costUsd === undefined ? 0 : x.costUsd,
    };
    this.store.enqueue({ kind: 'attempt', attempt });
  }

  setStatus(meta: RunMeta, status: RunMeta['status'], event: string, data: Record<string, unknown> = {}): void {
    const now = Date.now();
    const suspended = (s: RunMeta['status']) => s === 'waiting' || s === 'paused';
    if (suspended(status) && !suspended(meta.status)) meta.suspendedAt = now;
    if (!suspended(status) && meta.suspendedAt) {
      meta.deadlineAt += now - meta.suspendedAt;
      meta.suspendedAt = null;
    }
    meta.status = status;
    this.store.saveMeta(meta);
    this.emit(event, null, { status, ...data });
  }

  /**
   * The run's outcome. A success or failure is also a domain event (automations listen for it),
   * put in the outbox in the same storage turn as the status, so neither exists without the other.
   */
  finishRun(meta: RunMeta, status: 'succeeded' | 'failed' | 'cancelled'): void {
    if (TERMINAL_RUN.includes(meta.status)) return;
    meta.finishedAt = Date.now();
    this.setStatus(meta, status, `run.${status}`);
    if (status === 'cancelled') return;
    this.raise({
      id: `run:${meta.runId}:${status}`,
      type: status === 'succeeded' ? 'workflow.completed' : 'workflow.failed',
      ownerId: meta.ownerId,
      at: meta.finishedAt,
      data: { run_id: meta.runId, workflow_id: meta.workflowId, workflow_name: meta.workflowName, status, error: meta.error },
      effectRef: `run:${meta.runId}`,
    });
  }

  /** Puts a domain event in the run's outbox; the next flush hands it to the events queue. */
  raise(event: DomainEvent): void {
    this.store.enqueue({ kind: 'event', event });
  }

  /** What templates see: the input, the nodes' outputs so far, the run and the workflow, and the latest review comments. */
  templateContext(meta: RunMeta): TemplateContext {
    return {
      input: meta.input,
      // A window on the nodes as they are now (node-views.ts): no copy of every node at each start.
      nodes: (this.cachedViews ??= new NodeViews(this.nodes().values())).window(),
      run: { id: meta.runId, workflow_version: meta.workflowVersion, created_at: new Date(meta.createdAt).toISOString() },
      workflow: { id: meta.workflowId, name: meta.workflowName, version: meta.workflowVersion },
      review: { comments: meta.reviews?.findLast((r) => r.decision === 'request_changes')?.comment ?? '' },
    };
  }
}
