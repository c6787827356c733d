/** /console/analytics.js: a workflow's analytics, every number as the API counted it. */
import type { Workflow, WorkflowAnalytics } from './api-shapes.js';
import { api } from './api.js';
import { type Bar, barChart, columnChart, ringChart } from './charts.js';
import { append, field, fmtMs, fmtNumber, h, showError, type ViewContext } from './dom.js';

type Day = WorkflowAnalytics['runs_per_day'][number];

const DAY_MS = 86400000;
const PERCENTILES = ['p50', 'p95'] as const;
const pct = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);

/** Every UTC day the window touches, so days without runs show as empty columns. */
function days(a: WorkflowAnalytics): Day[] {
  const byDay = new Map(a.runs_per_day.map((d) => [d.day, d]));
  const keys = new Set(byDay.keys());
  for (let t = Date.now() - a.window_days * DAY_MS; t <= Date.now() + 1; t += DAY_MS) keys.add(new Date(t).toISOString().slice(0, 10));
  return [...keys].sort().map((day) => byDay.get(day) || { day, runs: 0, succeeded: 0, failed: 0 });
}

function summary(a: WorkflowAnalytics): HTMLDListElement {
  const rows: [string, string][] = [
    ['Runs', fmtNumber(a.runs.total)],
    ...Object.entries(a.runs.by_status).map(([status, n]): [string, string] => [`Runs ${status}`, fmtNumber(n)]),
    ['Success rate', pct(a.success_rate)],
    ['Retries', fmtNumber(a.retries)],
    ['Tokens in / out', `${fmtNumber(a.tokens.in)} / ${fmtNumber(a.tokens.out)}`],
  ];
  return h(
    'dl',
    { class: 'stats', 'aria-label': 'Totals' },
    rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))),
  );
}

function charts(a: WorkflowAnalytics): HTMLElement[] {
  const perDay = days(a);
  const durationBars: Bar[] = PERCENTILES.map((p) => ({
    key: p,
    label: p,
    value: a.run_duration_ms[p],
    display: fmtMs(a.run_duration_ms[p]),
    cls: `bar-${p}`,
  }));
  const nodeBars: Bar[] = Object.entries(a.node_duration_ms).flatMap(([node, d]) =>
    PERCENTILES.map((p) => ({ key: `${node}:${p}`, label: `${node} ${p}`, value: d[p], display: fmtMs(d[p]), cls: `bar-${p}` })),
  );
  return [
    columnChart({
      key: 'runs-per-day',
      caption: 'Runs per day',
      description: `${a.runs.total} runs in the last ${a.window_days} days, by the UTC day they started; green succeeded, red failed, grey other.`,
      items: perDay.map((d) => ({
        key: d.day,
        label: d.day,
        short: d.day.slice(5),
        total: d.runs,
        segments: [
          { name: 'succeeded', value: d.succeeded, cls: 'bar-ok' },
          { name: 'failed', value: d.failed, cls: 'bar-fail' },
          { name: 'other', value: d.runs - d.succeeded - d.failed, cls: 'bar-other' },
        ],
      })),
      headers: ['Day', 'Runs', 'Succeeded', 'Failed'],
      rows: a.runs_per_day.map((d) => [d.day, d.runs, d.succeeded, d.failed]),
    }),
    ringChart({
      key: 'success-rate',
      caption: 'Success rate',
      description: a.success_rate === null ? 'No finished runs yet.' : `${pct(a.success_rate)} of finished runs succeeded.`,
      value: a.success_rate,
      display: pct(a.success_rate),
      headers: ['Status', 'Runs'],
      rows: Object.entries(a.runs.by_status),
    }),
    barChart({
      key: 'run-duration',
      caption: 'Run duration (succeeded runs)',
      description: `Median ${fmtMs(a.run_duration_ms.p50)}, 95th percentile ${fmtMs(a.run_duration_ms.p95)}.`,
      bars: durationBars,
      headers: ['Percentile', 'Duration'],
      rows: durationBars.map((b) => [b.label, b.display]),
    }),
    barChart({
      key: 'node-duration',
      caption: 'Node duration (succeeded attempts)',
      description: nodeBars.length ? 'Median and 95th percentile duration of each node.' : 'No node has succeeded yet.',
      bars: nodeBars,
      headers: ['Node', 'Runs', 'p50', 'p95'],
      rows: Object.entries(a.node_duration_ms).map(([node, d]) => [node, d.count, fmtMs(d.p50), fmtMs(d.p95)]),
    }),
    barChart({
      key: 'tokens',
      caption: 'Tokens',
      description: `${fmtNumber(a.tokens.in)} tokens in, ${fmtNumber(a.tokens.out)} out.`,
      bars: [
        { key: 'in', label: 'in (prompts)', value: a.tokens.in, display: fmtNumber(a.tokens.in), cls: 'bar-in' },
        { key: 'out', label: 'out (generated)', value: a.tokens.out, display: fmtNumber(a.tokens.out), cls: 'bar-out' },
      ],
      headers: ['Direction', 'Tokens'],
      rows: [
        ['in', fmtNumber(a.tokens.in)],
        ['out', fmtNumber(a.tokens.out)],
      ],
    }),
  ];
}

export async function analyticsView({ root, signal }: ViewContext, id: number): Promise<void> {
  const wf = await api<Workflow>('GET', `/api/v3/workflows/${id}`, undefined, { signal });
  const select = h(
    'select',
    { name: 'days' },
    [7, 30, 90].map((d) => h('option', { value: d, selected: d === 30 }, `Last ${d} days`)),
  );
  const body = h('div', { class: 'analytics', 'aria-live': 'polite', 'aria-busy': 'true' });
  append(
    root,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/workflows' }, 'Workflows'),
      ' / ',
      h('a', { href: `#/workflows/${id}` }, wf.name),
    ),
    h('h1', {}, `Analytics: ${wf.name}`),
    h('form', { class: 'filters single' }, field('Time window', select)),
    body,
  );

  async function load(): Promise<void> {
    body.setAttribute('aria-busy', 'true');
    try {
      const a = await api<WorkflowAnalytics>('GET', `/api/v3/workflows/${id}/analytics?days=${select.value}`, undefined, { signal });
      body.replaceChildren(summary(a), h('div', { class: 'charts' }, charts(a)));
    } catch (err) {
      if (!signal.aborted) showError(body, err);
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }
  select.addEventListener('change', load);
  await load();
}
