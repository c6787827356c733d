import type { MetricType } from './model';

/**
 * Custom metric names as Prometheus will see them. A given name may use dots (`custom.metric`),
 * which become underscores; the result must be a Prometheus metric name without colons (those are
 * for recording rules). Counters get `_total` and timers `_seconds` appended, as Prometheus
 * naming asks, unless the name already ends so. Names starting `dwc_` are this service's own and
 * `__` Prometheus'; `_bucket`, `_sum` and `_count` endings would collide with the sample names of
 * histograms and summaries, so they are refused too.
 */
export const GIVEN_NAME = /^[a-zA-Z_][a-zA-Z0-9_.]*$/;
const PROMETHEUS_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const MAX_NAME_LENGTH = 100;
export const MAX_LABELS = 8;
export const MAX_LABEL_NAME_LENGTH = 64;
export const MAX_LABEL_VALUE_LENGTH = 128;
/** Labels the exposition format gives a meaning of its own, and the ones every HTTP series has. */
const RESERVED_LABELS = new Set(['le', 'quantile']);

export type NameCheck = { ok: true; name: string } | { ok: false; message: string };

export function exposedName(given: string, type: MetricType): NameCheck {
  const base = given.replace(/\./g, '_');
  if (!PROMETHEUS_NAME.test(base) || base.length > MAX_NAME_LENGTH)
    return {
      ok: false,
      message: `"${given}" is not a valid metric name once dots become underscores ([a-zA-Z_][a-zA-Z0-9_]*, at most ${MAX_NAME_LENGTH} characters)`,
    };
  if (base.startsWith('__') || base.startsWith('dwc_')) return { ok: false, message: 'Metric names starting "__" or "dwc_" are reserved' };
  if (/_(bucket|sum|count)$/.test(base))
    return { ok: false, message: 'Metric names ending "_bucket", "_sum" or "_count" are reserved for histogram and summary samples' };
  if (type === 'counter' && !base.endsWith('_total')) return { ok: true, name: `${base}_total` };
  if (type === 'timer' && !base.endsWith('_seconds')) return { ok: true, name: `${base}_seconds` };
  return { ok: true, name: base };
}

export function checkLabels(labels: Record<string, string>): string | null {
  const names = Object.keys(labels);
  if (names.length > MAX_LABELS) return `At most ${MAX_LABELS} labels`;
  for (const name of names) {
    if (!LABEL_NAME.test(name) || name.length > MAX_LABEL_NAME_LENGTH) return `Label name "${name}" is not a valid Prometheus label name`;
    if (name.startsWith('__') || RESERVED_LABELS.has(name)) return `Label name "${name}" is reserved`;
    if (labels[name]!.length > MAX_LABEL_VALUE_LENGTH) return `Label "${name}" is longer than ${MAX_LABEL_VALUE_LENGTH} characters`;
  }
  return null;
}
