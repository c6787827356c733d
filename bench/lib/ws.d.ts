// The subset of the `ws` package (installed as a wrangler/miniflare dependency, without
// @types/ws) that the harness uses.
declare module 'ws' {
  import { EventEmitter } from 'node:events';
  namespace WebSocket {
    type RawData = Buffer | ArrayBuffer | Buffer[];
  }
  class WebSocket extends EventEmitter {
    constructor(url: string, options?: { perMessageDeflate?: boolean });
    send(data: string): void;
    close(code?: number): void;
    terminate(): void;
    on(event: 'open', cb: () => void): this;
    on(event: 'message', cb: (data: WebSocket.RawData) => void): this;
    on(event: 'error', cb: (err: Error) => void): this;
    once(event: 'open', cb: () => void): this;
    once(event: 'error', cb: (err: Error) => void): this;
    off(event: 'message', cb: (data: WebSocket.RawData) => void): this;
  }
  export default WebSocket;
}
