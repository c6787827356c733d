import { ApiError } from '../lib/errors';
import type { Delta, Labels, MetricType } from './model';
import { checkLabels, exposedName } from './names';

export type RecordInput = {
  name: string;
  value?: number | undefined;
  labels?: Labels | undefined;
  metric_type?: MetricType | undefined;
  category?: string | undefined;
  help?: string | undefined;
  unit?: string | undefined;
  buckets?: number[] | undefined;
  mode?: 'set' | 'add' | undefined;
};

const invalid = (path: string, message: string) =>
  new ApiError('validation_error', message, { details: [{ path: [path], code: 'custom', message }] });

/**
 * Turns one request into the delta a shard stores, or refuses it (400) before anything is sent:
 * what zod cannot say alone (names once mapped, label rules, which fields fit which type).
 * Timers take milliseconds, as callers measure them, and are stored in seconds, as Prometheus
 * expects; the rest are stored as given.
 */
export function toDelta(type: MetricType, input: RecordInput): Delta {
  if (input.metric_type && input.metric_type !== type)
    throw invalid('metric_type', `metric_type "${input.metric_type}" does not match the path's "${type}"`);
  const name = exposedName(input.name, type);
  if (!name.ok) throw invalid('name', name.message);
  const labels = input.labels ?? {};
  const labelProblem = checkLabels(labels);
  if (labelProblem) throw invalid('labels', labelProblem);
  if (input.buckets && type !== 'histogram' && type !== 'timer') throw invalid('buckets', 'Only histograms and timers have buckets');
  if (input.buckets?.some((b, i, all) => i > 0 && b <= all[i - 1]!)) throw invalid('buckets', 'Buckets must be strictly increasing');
  if (input.mode && type !== 'gauge') throw invalid('mode', 'Only gauges take a mode');
  if (input.value === undefined && type !== 'counter') throw invalid('value', `A ${type} needs a value`);
  const given = input.value ?? 1;
  if ((type === 'counter' || type === 'timer') && given < 0) throw invalid('value', `A ${type} value cannot be negative`);
  const value = type === 'timer' ? given / 1000 : given;
  return {
    family: {
      name: name.name,
      given: input.name,
      type,
      help: input.help ?? '',
      unit: type === 'timer' ? 'seconds' : (input.unit ?? null),
      category: input.category ?? 'application',
      // Null lets the shard keep the family's buckets (or give a new one the defaults).
      buckets: input.buckets ?? null,
    },
    labels,
    count: 1,
    sum: value,
    min: value,
    max: value,
    last: value,
    ...(type === 'gauge' ? { gauge: input.mode ?? 'set' } : {}),
  };
}
