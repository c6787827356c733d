import { formatTraceparent, type RunRef, runSpanId, runTraceId, spanName } from './context';

/** Which attempt of which run a provider call is made for. */
export type CallTrace = RunRef & { nodeId: string; attempt: number };

type Fetcher = (input: string, init: RequestInit) => Promise<Response>;

/** The `traceparent` of a provider call: the call's span in the run's trace (the same ids as GET …/trace shows). */
export async function callTraceparent(t: CallTrace): Promise<string> {
  const traceId = await runTraceId(t);
  return formatTraceparent({ traceId, spanId: await runSpanId(traceId, spanName.call(t.nodeId, t.attempt)), sampled: true });
}

/**
 * A fetch that adds `traceparent` to every request, for the AI providers' HTTP calls. Providers
 * reached through a binding (Workers AI) do not go through it; Cloudflare's own tracing covers them.
 */
export function withTraceparent(traceparent: string, fetcher: Fetcher = (input, init) => fetch(input, init)): Fetcher {
  return (input, init) => {
    const headers = new Headers(init.headers);
    headers.set('traceparent', traceparent);
    return fetcher(input, { ...init, headers });
  };
}
