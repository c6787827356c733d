/**
 * Traces (docs/observability.md): W3C trace context on requests and on the providers' calls of
 * runs, run traces built from the run record, OTLP export. The routes (routes.ts) and the event
 * subscriber (subscriber.ts) are wired by the composition roots; they read runs through
 * src/runs, which imports this module, so this module does not export them.
 */
export { formatTraceparent, parseTraceparent, type SpanContext } from './context';
export { traceRequests } from './middleware';
export { type CallTrace, callTraceparent, withTraceparent } from './outbound';
