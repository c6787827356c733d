import { labelKey, type Family, type Labels, type SeriesTotal } from './model';
import { sketchQuantile, type Sketch } from './sketch';

/**
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/): one `# HELP` and one `# TYPE`
 * line per family, then its samples; histograms as cumulative `_bucket{le="…"}` series ending in
 * `le="+Inf"`, plus `_sum` and `_count`; summaries as `{quantile="…"}` series plus `_sum` and
 * `_count`. Timers are exposed as histograms (in seconds). No timestamps: Prometheus stamps a
 * scrape itself.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const SUMMARY_QUANTILES = [0.5, 0.9, 0.95, 0.99];

const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  if (extra) pairs.push(extra);
  return pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
}

/** The exposed TYPE of a family: timers are histograms to Prometheus. */
const promType = (f: Family) => (f.type === 'timer' ? 'histogram' : f.type);

/**
 * Renders families and their series. `recent` holds, per summary series (keyed by family and
 * labelKey), the sketch of its recent window, from which the quantiles are computed; a summary
 * with nothing recent reports NaN quantiles, as Prometheus client libraries do.
 */
export function renderPrometheus(families: Family[], totals: SeriesTotal[], recent: Map<string, Sketch>): string {
  const byFamily = new Map<string, SeriesTotal[]>();
  for (const t of totals) byFamily.set(t.family, [...(byFamily.get(t.family) ?? []), t]);
  const out: string[] = [];
  for (const f of [...families].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const series = byFamily.get(f.name);
    if (!series?.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help || f.given)}`, `# TYPE ${f.name} ${promType(f)}`);
    for (const s of series.sort((a, b) => (labelKey(a.labels) < labelKey(b.labels) ? -1 : 1))) {
      if (f.type === 'counter') out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.sum)}`);
      else if (f.type === 'gauge') out.push(`${f.name}${labelText(s.labels)} ${formatValue(s.value)}`);
      else if (f.type === 'summary') {
        const sketch = recent.get(`${f.name}\n${labelKey(s.labels)}`);
        for (const q of SUMMARY_QUANTILES) {
          const v = sketch ? sketchQuantile(sketch, q) : null;
          out.push(`${f.name}${labelText(s.labels, ['quantile', String(q)])} ${formatValue(v ?? NaN)}`);
        }
        out.push(`${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`, `${f.name}_count${labelText(s.labels)} ${s.count}`);
      } else {
        const bounds = f.buckets ?? [];
        const counts = s.counts ?? [];
        let cumulative = 0;
        bounds.forEach((b, i) => {
          cumulative += counts[i] ?? 0;
          out.push(`${f.name}_bucket${labelText(s.labels, ['le', formatValue(b)])} ${cumulative}`);
        });
        out.push(`${f.name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
        out.push(`${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}`, `${f.name}_count${labelText(s.labels)} ${s.count}`);
      }
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
