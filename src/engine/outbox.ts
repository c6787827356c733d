import type { DomainEvent } from '../lib/events';
import { log } from '../lib/log';
import type { EnginePorts } from './ports';
import { flushProjection } from './projection';
import type { RunState } from './state';
import type { RunMeta } from './types';

/** A flush that failed (D1 or the queue unavailable) is tried again after 5 s, doubling to 5 min. */
const RETRY_MS = 5_000;
const RETRY_MAX_MS = 300_000;

/**
 * What leaves the run's object after the fact: the outbox (its D1 projection and its domain
 * events) and its events for the workflow's WebSocket room. Both keep a durable position in the
 * object's storage, so a failure or an eviction delays them and loses nothing.
 */
export class RunOutbox {
  private roomPublishing: Promise<void> = Promise.resolve();
  private roomPublishQueued = false;

  constructor(
    private readonly state: RunState,
    private readonly ports: EnginePorts,
    private readonly host: { waitUntil(p: Promise<unknown>): void },
  ) {}

  hasPending(): boolean {
    return this.state.store.hasPending();
  }

  /** How long to wait before trying a failed flush again. */
  retryDelay(): number {
    const failures = Number(this.state.store.getValue('outbox_failures') ?? 0);
    return Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** Math.max(0, failures - 1));
  }

  /**
   * Writes the outbox: the D1 projection and the domain events. A failure leaves every entry in
   * place for the next flush (the driver arms an alarm for it). Documents that the projection
   * created are linked into their nodes' outputs, announced on the run's stream, and raised as
   * domain events.
   */
  async flush(meta: RunMeta): Promise<void> {
    const { state, ports } = this;
    try {
      const nodes = state.nodes();
      const send = (events: DomainEvent[]) => ports.sendEvents(events);
      const defOf = (id: string) => state.schedule().def(id);
      const created = await flushProjection(ports.d1, state.store, meta, nodes, send, defOf);
      for (const [nodeId, documentId] of created) {
        const rec = nodes.get(nodeId);
        if (!rec?.output || rec.output.documentId === documentId) continue;
        rec.output.documentId = documentId;
        state.store.saveNode(rec);
        state.emit('document.created', nodeId, { document_id: documentId });
        state.raise({
          id: `document:${documentId}:generated`,
          type: 'document.generated',
          ownerId: meta.ownerId,
          at: Date.now(),
          data: { document_id: documentId, run_id: meta.runId, workflow_id: meta.workflowId, node_id: nodeId },
          effectRef: `run:${meta.runId}`,
        });
      }
      if (created.size) await flushProjection(ports.d1, state.store, meta, state.nodes(), send, defOf);
      if (state.store.getValue('outbox_failures') !== null) state.store.deleteValue('outbox_failures');
    } catch (err) {
      state.store.setValue('outbox_failures', String(Number(state.store.getValue('outbox_failures') ?? 0) + 1));
      log(ports.logLevel, 'warn', 'run outbox deferred', { runId: meta.runId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Publishes stored events to the workflow's room (for WebSocket subscribers), in order, from a
   * cursor kept in storage. Each event carries a source key, so the room ignores a repeat after
   * a failure or an eviction; a failed publish is retried by the next event or the next settle.
   */
  publishToRoom(): void {
    // A pass publishes everything stored when it starts reading, so while one is still queued a
    // burst of events needs no further pass: the queued one will see them.
    if (this.roomPublishQueued) return;
    this.roomPublishQueued = true;
    this.roomPublishing = this.roomPublishing
      .then(async () => {
        this.roomPublishQueued = false;
        const meta = this.state.metaIfAny();
        if (!meta) return;
        const { store } = this.state;
        for (;;) {
          const from = Number(store.getValue('room_published') ?? 0);
          const events = store.events(from, 200);
          if (events.length === 0) return;
          await this.ports.publish(
            meta.workflowId,
            events.map((e) => ({
              source: `run:${meta.runId}:${e.seq}`,
              payload: { run_id: meta.runId, workflow_id: meta.workflowId, ...e },
            })),
          );
          store.setValue('room_published', String(events.at(-1)!.seq));
        }
      })
      .catch((err: unknown) =>
        log(this.ports.logLevel, 'warn', 'room publish deferred', { error: err instanceof Error ? err.message : String(err) }),
      );
    this.host.waitUntil(this.roomPublishing);
  }
}
