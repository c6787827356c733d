/**
 * /console/sse.js: Server-Sent Events over fetch(). EventSource cannot send an Authorization
 * header, so the stream is read from a fetch() body and parsed by the event-stream rules of the
 * HTML standard; a reconnect resumes with the Last-Event-ID header, which the run stream honours
 * from its stored log, so nothing is missed or repeated.
 */
import { ApiError, authedFetch } from './api.js';

const MAX_RETRY_MS = 15000;

export type Frame = { id: string | undefined; event: string; data: string };

export type StreamHandlers = {
  onEvent(frame: Frame): void;
  onOpen(): void;
  onState(text: string): void;
  /** Asked when the server closes the stream: true ends it for good, false reconnects. */
  isFinished(): boolean;
};

/**
 * Feeds decoded text to the parser: lines end in CRLF, LF or CR; a blank line dispatches the
 * frame; ':' starts a comment; a field without a colon has an empty value.
 */
export function createParser(onFrame: (frame: Frame) => void, onRetry: (ms: number) => void): { push(chunk: string, done: boolean): void } {
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let first = true;

  function line(text: string): void {
    if (text === '') {
      if (data.length) onFrame({ id, event: event || 'message', data: data.join('\n') });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
  }

  return {
    push(chunk, done) {
      buffer += chunk;
      if (first && buffer.length) {
        if (buffer.charCodeAt(0) === 0xfeff) buffer = buffer.slice(1);
        first = false;
      }
      const re = /\r\n|\r|\n/g;
      let start = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(buffer))) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (m[0] === '\r' && m.index === buffer.length - 1 && !done) break;
        line(buffer.slice(start, m.index));
        start = m.index + m[0].length;
      }
      buffer = buffer.slice(start);
    },
  };
}

/**
 * Opens path as an event stream. A finished run's stream closes for good; any other close (the
 * run's object was evicted, the network dropped) reconnects.
 */
export function openEventStream(path: string, handlers: StreamHandlers, lastEventId?: string | number): { close(): void; reopen(): void } {
  let lastId = lastEventId ? String(lastEventId) : '';
  let retryMs = 1000;
  let controller: AbortController | null = null;
  let timer: number | undefined;
  let active = false;
  let stopped = false;

  function schedule(reason: string): void {
    handlers.onState(`reconnecting in ${Math.round(retryMs / 1000)} s (${reason})`);
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  async function connect(): Promise<void> {
    timer = undefined;
    active = true;
    controller = new AbortController();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastId) headers['last-event-id'] = lastId;
    try {
      const res = await authedFetch(path, 'GET', undefined, { headers, signal: controller.signal });
      if (!res.ok) {
        const body: unknown = await res.json().catch(() => null);
        if (res.status >= 500 || res.status === 429) return schedule(`status ${res.status}`);
        active = false;
        handlers.onState(`closed: ${new ApiError(res.status, body).message}`);
        return;
      }
      if (!res.body) throw new Error('the stream has no body');
      handlers.onOpen();
      const parser = createParser(
        (frame) => {
          if (frame.id !== undefined) lastId = frame.id;
          retryMs = 1000;
          handlers.onEvent(frame);
        },
        (ms) => {
          retryMs = ms;
        },
      );
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value, false);
      }
      parser.push('', true);
    } catch (err) {
      if (stopped) return;
      return schedule(err instanceof Error && err.message ? err.message : 'network error');
    }
    if (stopped) return;
    if (handlers.isFinished()) {
      active = false;
      handlers.onState('ended');
      return;
    }
    schedule('stream closed');
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (controller) controller.abort();
    },
    /** Connects again (after a retry of a finished run) unless already connected or waiting. */
    reopen() {
      if (stopped || active || timer) return;
      retryMs = 1000;
      connect();
    },
  };
}
