import { nodeJson, type LoadResult } from './load';

/**
 * autocannon with a request body picked at random, per request, from a list: for POST routes
 * whose answer depends on the body (a recommendation for one of many users, a prediction for one
 * of many rows), where the CLI could only repeat one body. autocannon's CLI cannot do this, so
 * its programmatic API runs in a separate Node process (the script below, given on the command
 * line) and the load generator still never shares an event loop with the harness. The bodies go
 * in on stdin (they can exceed the size of one command-line argument); the figures come back as
 * JSON on stdout, the same fields as `autocannon()` in ./load.
 */
const SCRIPT = `
const autocannon = require('autocannon');
let input = '';
process.stdin.on('data', (d) => (input += d));
process.stdin.on('end', () => {
  const o = JSON.parse(input);
  const pick = () => o.bodies[Math.floor(Math.random() * o.bodies.length)];
  autocannon(
    {
      url: o.url,
      connections: o.connections,
      duration: o.durationS,
      requests: [{ method: 'POST', headers: o.headers, setupRequest: (req) => ({ ...req, body: pick() }) }],
    },
    (err, r) => {
      if (err) { console.error(String(err)); process.exit(1); }
      process.stdout.write(JSON.stringify({
        requestsPerSec: r.requests.average, total: r.requests.total,
        p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max,
        errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx,
      }));
    },
  );
});
`;

export type BodiesLoadOptions = { url: string; connections: number; durationS: number; headers: Record<string, string>; bodies: string[] };

/** POSTs to `o.url` for `o.durationS` seconds over `o.connections` connections, each body drawn at random from `o.bodies`. */
export function autocannonBodies(root: string, o: BodiesLoadOptions): Promise<LoadResult> {
  // cwd = the project, so `require('autocannon')` resolves to the project's own copy.
  return nodeJson<LoadResult>('autocannon (bodies)', ['-e', SCRIPT], {
    cwd: root,
    stdin: JSON.stringify({ ...o, headers: { 'content-type': 'application/json', ...o.headers } }),
  });
}
