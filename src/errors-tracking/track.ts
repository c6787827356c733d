import type { ErrorHandler } from 'hono';
import { getDb } from '../db/client';
import type { AppEnv } from '../lib/context';
import { ApiError } from '../lib/errors';
import { log } from '../lib/log';
import { recordError } from './store';

/**
 * Wraps the app's error renderer: an error answered with a generic 500 (a fault, not an ApiError
 * the code chose to throw) is counted in its group after the answer is built. Recording is
 * best effort and off the answer's path (waitUntil): a failing D1 must not turn one fault into a
 * slower one, and the renderer has already logged the fault with its request id.
 */
export function trackFaults(render: ErrorHandler<AppEnv>): ErrorHandler<AppEnv> {
  return async function onError(err, c) {
    const res = await render(err, c);
    if (res.status === 500 && !(err instanceof ApiError)) {
      const recording = recordError(getDb(c.env.DB), err, {
        route: `${c.req.method} ${c.req.routePath}`,
        requestId: c.get('requestId') ?? 'unknown',
      }).catch((e: unknown) =>
        log(c.env.LOG_LEVEL, 'warn', 'error tracking failed', { error: e instanceof Error ? e.message : String(e) }),
      );
      try {
        c.executionCtx.waitUntil(recording);
      } catch {
        // No execution context (the app run outside Workers, as the OpenAPI test does): the promise still runs.
      }
    }
    return res;
  };
}
