/** /console/service.js: service analytics (#/analytics), every figure as /api/v3/analytics returned it. */
import type { AnalyticsInsights, AnalyticsSeries, AnalyticsSummary, AnalyticsTop, Insight, Trend, WorkflowRef } from './api-shapes.js';
import { api } from './api.js';
import { columnChart } from './charts.js';
import { append, type Child, field, fmtNumber, h, showError, type ViewContext } from './dom.js';

const RANGES = ['hour', 'day', 'week', 'month', 'quarter', 'year'];
const signed = (n: number): string => (n > 0 ? '+' : '') + fmtNumber(n);

/** A bucket's label: the clock time for short windows, the day (and hour for a week) for longer ones. */
function shortLabel(iso: string, range: string): string {
  if (range === 'hour' || range === 'day') return iso.slice(11, 16);
  return range === 'week' ? `${iso.slice(5, 13).replace('T', ' ')}h` : iso.slice(5, 10);
}

/** "+3 (+50%) vs 2 in the previous period"; no percentage when the previous count was 0. */
function trendText(t: Trend): string {
  const pctText = t.change_pct === null ? '' : ` (${t.change_pct > 0 ? '+' : ''}${t.change_pct}%)`;
  return `${signed(t.change)}${pctText} vs ${fmtNumber(t.previous)} before`;
}

function totals(sum: AnalyticsSummary): HTMLDListElement {
  const rows: [string, Trend][] = [['All events', sum.totals], ...Object.entries(sum.by_type)];
  return h(
    'dl',
    { class: 'stats', 'aria-label': 'Totals' },
    rows.map(([type, t]) =>
      h(
        'div',
        { 'data-type': type, 'data-count': t.count, 'data-previous': t.previous },
        h('dt', {}, type),
        h('dd', {}, fmtNumber(t.count)),
        // A second description of the same term: a <dl>'s groups hold only <dt> and <dd> (axe: dlitem).
        h('dd', { class: 'hint' }, trendText(t)),
      ),
    ),
  );
}

function chart(series: AnalyticsSeries, range: string): HTMLElement {
  return columnChart({
    key: 'events',
    caption: `Events per ${series.bucket}`,
    description: `${series.total.reduce((n, p) => n + p.count, 0)} events from ${series.from} to ${series.to}, in ${series.buckets} buckets of ${series.bucket} (UTC).`,
    items: series.total.map((p) => ({
      key: p.start,
      label: p.start,
      short: shortLabel(p.start, range),
      total: p.count,
      segments: [{ name: 'events', value: p.count, cls: 'bar-in' }],
    })),
    headers: ['Bucket start (UTC)', 'Events'],
    rows: series.total.filter((p) => p.count).map((p) => [p.start, p.count]),
  });
}

function list<T>(title: string, key: string, items: T[], text: (item: T) => Child): HTMLElement {
  return h(
    'section',
    { class: 'card', 'data-list': key },
    h('h2', {}, title),
    items.length
      ? h(
          'ol',
          {},
          items.map((i) => h('li', {}, text(i))),
        )
      : h('p', { class: 'hint' }, 'Nothing in this period.'),
  );
}

function tops(top: AnalyticsTop): HTMLDivElement {
  const wf = (w: WorkflowRef) => h('a', { href: `#/workflows/${w.workflow_id}/analytics` }, w.name || `Workflow ${w.workflow_id}`);
  return h(
    'div',
    { class: 'charts' },
    list('Most active users', 'users', top.most_active_users, (u) => [
      u.username || `User ${u.user_id}`,
      `: ${fmtNumber(u.events)} events`,
    ]),
    list('Most run workflows', 'run', top.most_run_workflows, (w) => [wf(w), `: ${fmtNumber(w.runs_started)} runs started`]),
    list('Most failing workflows', 'failing', top.most_failing_workflows, (w) => [
      wf(w),
      `: ${fmtNumber(w.runs_failed)} failed, ${fmtNumber(w.runs_completed)} completed`,
    ]),
  );
}

/** The scalar figures an insight carries (arrays such as a whole daily series, and links, stay in the API). */
function figures(insight: Insight): HTMLDListElement {
  const rows = Object.entries(insight).filter(
    ([k, v]) => k !== 'kind' && k !== 'message' && !k.endsWith('_url') && v !== null && typeof v !== 'object',
  );
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'number' ? fmtNumber(v) : String(v))]),
  );
}

function insightList(ins: AnalyticsInsights): HTMLElement {
  const all = [...ins.anomalies, ...ins.failure_spikes, ...ins.slowest_nodes, ...ins.expensive_workflows];
  return h(
    'section',
    { class: 'card', 'data-list': 'insights' },
    h('h2', {}, 'Insights'),
    all.length
      ? h(
          'ul',
          { class: 'insights' },
          all.map((i) =>
            h('li', { 'data-kind': i.kind }, h('p', {}, h('strong', {}, `${i.kind.replace('_', ' ')}: `), i.message), figures(i)),
          ),
        )
      : h('p', { class: 'hint' }, 'No anomalies, failure spikes, slow nodes or costs to report for this period.'),
  );
}

export async function serviceView({ root, signal }: ViewContext, params: URLSearchParams): Promise<void> {
  const asked = params.get('time_range');
  const initial = asked && RANGES.includes(asked) ? asked : 'day';
  const select = h(
    'select',
    { name: 'time_range' },
    RANGES.map((r) => h('option', { value: r, selected: r === initial }, `Last ${r}`)),
  );
  const scope = h('p', { class: 'hint', id: 'analytics-scope' });
  const body = h('div', { class: 'analytics stack', 'aria-live': 'polite', 'aria-busy': 'true' });
  append(root, h('h1', {}, 'Service analytics'), h('form', { class: 'filters single' }, field('Time range', select)), scope, body);

  async function load(): Promise<void> {
    body.setAttribute('aria-busy', 'true');
    const q = `?time_range=${select.value}`;
    try {
      const get = <T>(path: string) => api<T>('GET', `/api/v3/analytics/${path}${q}`, undefined, { signal });
      const [sum, series, top, ins] = await Promise.all([
        get<AnalyticsSummary>('summary'),
        get<AnalyticsSeries>('series'),
        get<AnalyticsTop>('top'),
        get<AnalyticsInsights>('insights'),
      ]);
      scope.dataset.scope = sum.scope;
      scope.textContent = `${sum.scope === 'all' ? 'Whole service' : 'Your own activity'} (scope: ${sum.scope}), ${sum.from} to ${sum.to} UTC.`;
      body.replaceChildren(totals(sum), h('div', { class: 'charts' }, chart(series, select.value)), tops(top), insightList(ins));
      body.dataset.range = select.value;
    } catch (err) {
      if (!signal.aborted) showError(body, err);
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }
  select.addEventListener('change', () => {
    // Keeps the range in the address, so the view is linkable, without re-rendering the page.
    history.replaceState(null, '', `#/analytics?time_range=${select.value}`);
    load();
  });
  await load();
}
