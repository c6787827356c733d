import { z } from 'zod';
import { getDb } from '../db/client';
import type { Subscriber } from '../lib/events';
import { loadRunTrace } from './load';
import { exportSpans, otlpConfigured, type OtlpEnv } from './otlp';

const Finished = z.object({ run_id: z.number().int().positive() });

/**
 * Exports a finished run's trace over OTLP, when a collector is configured: the run's spans only
 * exist once it has a record to build them from. A redelivered event exports the same spans
 * again, with the same ids (collectors keep one span per id).
 */
export const tracesSubscriber: Subscriber = {
  name: 'traces',
  types: ['workflow.completed', 'workflow.failed'],
  async handle(env, event) {
    const otlp: OtlpEnv = env;
    if (!otlpConfigured(otlp)) return;
    const { run_id } = Finished.parse(event.data);
    const trace = await loadRunTrace(env, getDb(env.DB), run_id);
    const links = trace.links;
    await exportSpans(
      otlp,
      trace.spans.map((s) => ({ ...s, trace_id: trace.trace_id, ...(s.kind === 'run' ? { links } : {}) })),
    );
  },
};
