import { spawn } from 'node:child_process';
import path from 'node:path';

/** What autocannon measured in one run (its own JSON, trimmed to the figures we report). */
export type LoadResult = {
  requestsPerSec: number;
  total: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
};

export type LoadOptions = { url: string; connections: number; durationS: number; headers?: Record<string, string> };

/**
 * Runs autocannon's CLI in its own Node process, so the load generator never shares an event
 * loop with the harness (which drains workerd's log pipe and samples memory meanwhile).
 */
export async function autocannon(root: string, o: LoadOptions): Promise<LoadResult> {
  const bin = path.join(root, 'node_modules', 'autocannon', 'autocannon.js');
  const args = [bin, '--json', '--connections', String(o.connections), '--duration', String(o.durationS)];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('--headers', `${k}=${v}`);
  args.push(o.url);
  const j = await nodeJson<{
    requests: { average: number; total: number };
    latency: { p50: number; p90: number; p99: number; max: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  }>('autocannon', args);
  return {
    requestsPerSec: j.requests.average,
    total: j.requests.total,
    p50: j.latency.p50,
    p90: j.latency.p90,
    p99: j.latency.p99,
    max: j.latency.max,
    errors: j.errors,
    timeouts: j.timeouts,
    non2xx: j.non2xx,
  };
}

/**
 * Runs `node <args>` in a process of its own, optionally writing `stdin` to it, and parses what it
 * prints on stdout as JSON; a non-zero exit or output that is not JSON is an error naming `label`.
 */
export function nodeJson<T>(label: string, args: string[], o: { cwd?: string; stdin?: string } = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: o.cwd, stdio: [o.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${label} exited ${code}: ${err.slice(-500)}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(new Error(`${label} printed no JSON: ${out.slice(0, 300)} ${String(e)}`));
      }
    });
    if (o.stdin !== undefined) child.stdin!.end(o.stdin);
  });
}
