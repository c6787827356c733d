import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../lib/context';
import { log } from '../lib/log';
import { bucketIndex, DEFAULT_BUCKETS, emptyCounts } from './buckets';
import { labelKey, type Delta, type Family } from './model';
import { metricsShard } from './rpc';
import { SHARDS } from './queries';

export const HTTP_REQUESTS: Family = {
  name: 'dwc_http_requests_total',
  given: 'dwc.http.requests',
  type: 'counter',
  help: 'HTTP requests answered, by method, route template and status.',
  unit: null,
  category: 'http',
  buckets: null,
};

export const HTTP_DURATION: Family = {
  name: 'dwc_http_request_duration_seconds',
  given: 'dwc.http.request_duration',
  type: 'histogram',
  help: 'Wall time from the request reaching the app to its response, by method and route template. The Workers clock only advances across I/O, so pure CPU work inside a request is not seen.',
  unit: 'seconds',
  category: 'http',
  buckets: DEFAULT_BUCKETS,
};

/** A flush that has not answered by then is abandoned, so one stuck call cannot stop all later ones. */
const FLUSH_TIMEOUT_MS = 5000;
const FLUSH_DELAY_MS = 50;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/*
 * The isolate's unsent HTTP observations, aggregated per series: a write buffer, never the
 * truth, which is the shards'. It is bounded by the number of routes × statuses, however many
 * requests arrive. One flush at a time per isolate: requests that arrive while one is in flight
 * only add to the buffer, and the flush loop sends them next, FLUSH_DELAY_MS later, so under load
 * one RPC carries many requests. The loop runs inside the waitUntil of the request that started
 * it, which keeps the isolate alive until what it took is sent; after a second it hands over
 * (clears `flushingSince` before its last send), so no request's waitUntil is stretched long.
 */
let pending = new Map<string, Delta>();
/** When the flush in flight started. One older than FLUSH_TIMEOUT_MS no longer blocks a new one:
 *  a flush whose request context was torn down may never settle, not even its timer. */
let flushingSince: number | null = null;
/** Spreads isolates over the shards; any shard will do, as HTTP series are summed when read. */
let homeShard: number | null = null;

function add(delta: Delta) {
  const k = `${delta.family.name}\n${labelKey(delta.labels)}`;
  const prev = pending.get(k);
  if (!prev) pending.set(k, delta);
  else {
    prev.count += delta.count;
    prev.sum += delta.sum;
    prev.min = Math.min(prev.min, delta.min);
    prev.max = Math.max(prev.max, delta.max);
    prev.last = delta.last;
    if (prev.counts && delta.counts) for (let i = 0; i < delta.counts.length; i++) prev.counts[i]! += delta.counts[i]!;
  }
}

async function flush(env: Env): Promise<void> {
  const started = Date.now();
  homeShard ??= Math.floor(Math.random() * SHARDS);
  while (pending.size > 0) {
    // Let the buffer fill a little first: under load one call then carries every request of the
    // last FLUSH_DELAY_MS, so the shard's work per request shrinks as the load grows.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
    const batch = [...pending.values()];
    pending = new Map();
    const last = Date.now() - started > 1000;
    if (last) flushingSince = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), FLUSH_TIMEOUT_MS)));
    try {
      const result = await Promise.race([metricsShard(env, homeShard!).record(batch, Date.now()), timedOut]);
      if (result === 'timeout') {
        // It may still land, so it is not sent again: at most once, rather than counted twice.
        log(env.LOG_LEVEL, 'warn', 'http metrics flush timed out; its batch may be lost', { series: batch.length });
        break;
      }
      if (!result.ok) log(env.LOG_LEVEL, 'error', 'http metrics refused', { message: result.message });
    } catch (err) {
      // The shard applies a batch in one transaction, so a call that threw there wrote nothing;
      // keep the batch for the next request's flush and stop retrying now. (A connection lost
      // after the shard committed would count it twice; the platform does not tell them apart.)
      for (const d of batch) add(d);
      log(env.LOG_LEVEL, 'warn', 'http metrics flush failed; kept for the next flush', { error: String(err) });
      break;
    } finally {
      clearTimeout(timer);
    }
    if (last) return;
  }
  flushingSince = null;
}

/** Buffers one request's observations and makes sure a flush will send them. */
export function observeRequest(env: Env, method: string, route: string, status: number, seconds: number): Promise<void> | null {
  const m = METHODS.has(method) ? method : 'OTHER';
  add({ family: HTTP_REQUESTS, labels: { method: m, route, status: String(status) }, count: 1, sum: 1, min: 1, max: 1, last: 1 });
  const counts = emptyCounts(DEFAULT_BUCKETS);
  counts[bucketIndex(DEFAULT_BUCKETS, seconds)]! += 1;
  add({ family: HTTP_DURATION, labels: { method: m, route }, count: 1, sum: seconds, min: seconds, max: seconds, last: seconds, counts });
  const now = Date.now();
  if (flushingSince !== null && now - flushingSince < FLUSH_TIMEOUT_MS) return null;
  flushingSince = now;
  return flush(env);
}

/**
 * Automatic HTTP metrics. The route label is the matched route's template (`/api/v3/workflows/:id`),
 * never the URL, so the label set is bounded by the routes the app declares; requests that match
 * no route are labelled with the catch-all middleware's `/*`. Recording happens after the
 * response is ready and is sent in `waitUntil`, so it adds no latency to the response.
 */
export function httpMetrics(): MiddlewareHandler<AppEnv> {
  return async function httpMetrics(c, next) {
    const started = performance.now();
    await next();
    // Without the binding (the app loaded in Node for the OpenAPI lint) there is nowhere to record.
    if (!c.env?.METRICS) return;
    const seconds = (performance.now() - started) / 1000;
    // The last matched route is the most specific one: the handler's, even if middleware answered.
    const flushing = observeRequest(c.env, c.req.method, routePath(c, -1) || '/*', c.res.status, seconds);
    if (flushing) c.executionCtx.waitUntil(flushing);
  };
}
