import type { RunStore } from './storage';
import type { RunEvent } from './types';

const encoder = new TextEncoder();
const TOKEN_FLUSH_CHARS = 80;
const BACKLOG_PAGE = 500;

export function sseFrame(e: RunEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * A run's event log and its live subscribers. Events are appended to the object's storage first
 * (so a reconnecting client can replay them), then written to every open SSE stream. Subscribers
 * live only in memory: after an eviction their streams end, and clients resume with
 * Last-Event-ID, which the stored log serves without gap or duplicate.
 */
export class RunBroadcast {
  private readonly subscribers = new Set<WritableStreamDefaultWriter<Uint8Array>>();
  private readonly tokenBuffers = new Map<string, string>();

  constructor(
    private readonly store: RunStore,
    /** Called after each event is stored: the run publishes it to its workflow's room. */
    private readonly onEmit: () => void = () => undefined,
  ) {}

  emit(type: string, nodeId: string | null, data: Record<string, unknown>): RunEvent {
    const event = this.store.appendEvent(type, nodeId, data);
    const frame = encoder.encode(sseFrame(event));
    for (const w of this.subscribers) void w.write(frame).catch(() => this.subscribers.delete(w));
    this.onEmit();
    return event;
  }

  /** Stored events after `after`, then live ones; `finished` closes it after the backlog. */
  subscribe(after: number, finished: boolean): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    let last = after;
    for (;;) {
      const backlog = this.store.events(last, BACKLOG_PAGE);
      for (const e of backlog) void writer.write(encoder.encode(sseFrame(e))).catch(() => this.subscribers.delete(writer));
      if (backlog.length < BACKLOG_PAGE) break;
      last = backlog.at(-1)!.seq;
    }
    if (finished) void writer.close().catch(() => undefined);
    else this.subscribers.add(writer);
    return readable;
  }

  closeAll(): void {
    for (const w of this.subscribers) void w.close().catch(() => undefined);
    this.subscribers.clear();
  }

  /** Generated text is stored and sent in chunks of about 80 characters, not per token. */
  token(nodeId: string, text: string): void {
    const buffered = (this.tokenBuffers.get(nodeId) ?? '') + text;
    if (buffered.length >= TOKEN_FLUSH_CHARS) {
      this.tokenBuffers.delete(nodeId);
      this.emit('node.token', nodeId, { text: buffered });
    } else this.tokenBuffers.set(nodeId, buffered);
  }

  flushTokens(nodeId: string): void {
    const buffered = this.tokenBuffers.get(nodeId);
    this.tokenBuffers.delete(nodeId);
    if (buffered) this.emit('node.token', nodeId, { text: buffered });
  }
}
