/**
 * The harness's own requests (set-up, starting runs, polling, publishing), as opposed to the
 * measured load, which autocannon and the WebSocket clients send from their own processes.
 *
 * Under heavy load a pooled keep-alive connection to workerd is now and then found closed or
 * reset just as a request is written to it (undici: "other side closed", ECONNRESET); this also
 * happens on the connection Miniflare uses for `getD1Database`. Requests marked safe to repeat
 * (GETs and read-only queries, run launches with an Idempotency-Key, publishes the peer
 * de-duplicates by seq) are sent again. Retries are counted and reported with the results.
 */
let retries = 0;
export const transportRetries = () => retries;

function transient(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: string }).code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || /other side closed|ECONNRESET/.test(e.message))
      return true;
  }
  return false;
}

/**
 * Runs `fn`, and again (up to ATTEMPTS in all) while it fails on a dropped connection: after a
 * burst of concurrent requests the pool holds many idle connections, and more than one of them
 * may have been closed by workerd, so one retry can land on another dead one.
 */
const ATTEMPTS = 4;
export async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!transient(err) || attempt === ATTEMPTS) throw err;
      retries++;
    }
  }
}

export function request(url: string, init: RequestInit & { retry?: boolean } = {}): Promise<Response> {
  const { retry = false, ...rest } = init;
  return retry ? retrying(() => fetch(url, rest)) : fetch(url, rest);
}
