import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cmd, RoundStats } from './ws-clients';

/**
 * The parent's handle on one WebSocket client process (lib/ws-clients.ts, bundled next to
 * main.mjs by bench/run.mjs). Commands are sent one at a time and answered in order.
 */
export class ClientGroup {
  private waiting: ((v: unknown) => void) | null = null;
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    child.on('exit', (code, signal) => {
      this.exited = `client process exited (${code ?? signal})`;
    });
  }

  static start(): ClientGroup {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return new ClientGroup(fork(path.join(here, 'ws-clients.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  private ask<T>(cmd: Cmd, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${cmd.cmd}: no answer from the client process after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      this.waiting = (v) => {
        clearTimeout(timer);
        resolve(v as T);
      };
      this.child.send(cmd);
    });
  }

  connect(url: string, count: number, join: unknown, timeoutMs: number) {
    return this.ask<{ connected: number; failures: number; firstError: string; ms: number }>(
      { cmd: 'connect', url, count, parallel: 50, join: JSON.stringify(join) },
      timeoutMs,
    );
  }

  arm(runId: number | null) {
    return this.ask<{ armed: true }>({ cmd: 'arm', runId }, 10_000);
  }

  collect(expected: number, timeoutMs: number) {
    return this.ask<RoundStats>({ cmd: 'collect', expected, timeoutMs }, timeoutMs + 30_000);
  }

  close(): void {
    if (!this.exited) this.child.send({ cmd: 'close' });
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }
}
