/**
 * /console/trace.js: a run's trace (GET …/runs/{id}/trace) as a waterfall. One row per span,
 * indented under its parent, with a bar placed on the run's time axis; the row's text says what
 * the bar shows (name, start offset, duration, status), so the chart needs no sight to read.
 * Loaded on demand: a trace is built from the whole run record, which a running run keeps changing.
 */
import { api } from './api.js';
import { busy, fmtMs, h } from './dom.js';

type Span = {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  kind: 'run' | 'node' | 'attempt' | 'provider_call';
  start: string;
  end: string | null;
  duration_ms: number | null;
  status: 'ok' | 'error' | 'unset';
};
type Trace = { trace_id: string; spans: Span[] };

/** Spans in tree order (each after its parent, siblings by start), with their depth. */
function ordered(spans: Span[]): { span: Span; depth: number }[] {
  const children = new Map<string | null, Span[]>();
  const ids = new Set(spans.map((s) => s.span_id));
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const out: { span: Span; depth: number }[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => Date.parse(a.start) - Date.parse(b.start))) {
      out.push({ span: s, depth });
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

export function renderWaterfall(trace: Trace, now = Date.now()): HTMLOListElement {
  const rows = ordered(trace.spans);
  const t0 = Math.min(...trace.spans.map((s) => Date.parse(s.start)));
  const t1 = Math.max(...trace.spans.map((s) => (s.end ? Date.parse(s.end) : now)));
  const total = Math.max(1, t1 - t0);
  const list = h('ol', { class: 'waterfall', 'aria-label': `Trace ${trace.trace_id}` });
  for (const { span, depth } of rows) {
    const start = Date.parse(span.start) - t0;
    const duration = (span.end ? Date.parse(span.end) : now) - Date.parse(span.start);
    const bar = h('span', { class: `bar ${span.kind} ${span.status}`, 'aria-hidden': 'true' });
    // CSSOM properties, which the console's CSP allows (inline style attributes it does not).
    bar.style.marginLeft = `${(start / total) * 100}%`;
    bar.style.width = `${Math.max(0.5, (duration / total) * 100)}%`;
    const label = h('span', { class: 'label' }, span.name);
    label.style.paddingLeft = `${depth * 1.2}em`;
    const when = `+${fmtMs(start)} · ${span.end ? fmtMs(duration) : 'running'}${span.status === 'error' ? ' · failed' : ''}`;
    list.append(
      h(
        'li',
        { 'data-span': span.span_id, 'data-kind': span.kind, 'data-parent': span.parent_span_id ?? '' },
        label,
        h('span', { class: 'when' }, when),
        h('span', { class: 'track' }, bar),
      ),
    );
  }
  return list;
}

/** The run page's "Trace" section: a button that loads the trace and draws it (again on each click). */
export function traceSection(base: string, runId: number): HTMLElement {
  const holder = h('div', {});
  const button = h('button', { type: 'button', class: 'quiet', 'aria-label': `Show the trace of run ${runId}` }, 'Show trace');
  const section = h(
    'section',
    { 'aria-labelledby': 'trace-title' },
    h('h2', { id: 'trace-title' }, 'Trace'),
    h('p', { class: 'meta' }, 'Spans for the run, each node, attempt and provider call, on one time axis.'),
    button,
    holder,
  );
  button.addEventListener('click', async () => {
    const trace = await busy(button, section, () => api<Trace>('GET', `${base}/trace`));
    if (!trace) return;
    holder.replaceChildren(renderWaterfall(trace));
    button.textContent = 'Refresh trace';
  });
  return section;
}
