/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header, and the ids
 * this deployment gives to traces and spans.
 *
 * A run's spans are not recorded as they happen: the run's object already records every node and
 * attempt (start, duration, provider, model), and the trace is built from that record when asked
 * (run-trace.ts). For the ids sent to a provider during an attempt to match the ids of the trace
 * built later, span ids are derived from what names the span (run, node, attempt) instead of drawn
 * at random. Derived ids are as unique as their inputs; a run's trace id mixes in the run's
 * workflow and creation time so that two deployments' run 5 do not share a trace in a common
 * backend (it could still happen if both were created in the same millisecond: accepted).
 */

import { derivedId } from '../lib/trace-context';

export { derivedId, formatTraceparent, parseTraceparent, randomId, type SpanContext } from '../lib/trace-context';

/** What names each span of a run, and so derives its id. */
export const spanName = {
  run: () => 'run',
  node: (nodeId: string) => `node:${nodeId}`,
  attempt: (nodeId: string, attempt: number) => `attempt:${nodeId}:${attempt}`,
  call: (nodeId: string, attempt: number) => `call:${nodeId}:${attempt}`,
};

export type RunRef = { runId: number; workflowId: number; createdAt: number };

/** A run's trace id. */
export const runTraceId = (run: RunRef) => derivedId(`dwc-run:${run.workflowId}:${run.runId}:${run.createdAt}`, 16);

/** The id of a span of a run's trace, by its name (spanName). */
export const runSpanId = (traceId: string, name: string) => derivedId(`${traceId}:${name}`, 8);
