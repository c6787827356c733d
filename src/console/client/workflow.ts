/** /console/workflow.js: one workflow: its nodes, the start-a-run form and its runs. */
import type { Page, Run, RunSummary, Workflow } from './api-shapes.js';
import { api, query } from './api.js';
import { append, badge, busy, field, fmtMs, fmtNumber, fmtTime, h, type ViewContext } from './dom.js';
import { rememberRun } from './run.js';
import { inputFields } from './templates.js';

function startForm(wf: Workflow): HTMLFormElement {
  const form = h('form', { class: 'card stack', 'aria-labelledby': 'start-title' });
  const controls = inputFields(wf.nodes).map((name): [string, HTMLInputElement | HTMLTextAreaElement] => {
    const long = /text|content|body|source/.test(name);
    return [name, long ? h('textarea', { name, rows: 5, required: true }) : h('input', { name, required: true })];
  });
  const json = h('textarea', { rows: 5, class: 'mono', spellcheck: 'false' });
  const advanced = h(
    'details',
    {},
    h('summary', {}, 'Edit the input as JSON'),
    field('Run input (JSON object)', json, 'When this section is open, this object is sent instead of the fields above.'),
  );
  const fieldsInput = () => Object.fromEntries(controls.map(([name, c]) => [name, c.value]));
  advanced.addEventListener('toggle', () => {
    if (advanced.open) json.value = JSON.stringify(fieldsInput(), null, 2);
    for (const [, c] of controls) c.required = !advanced.open;
  });
  const submit = h('button', { type: 'submit' }, 'Start run');
  append(
    form,
    h('h2', { id: 'start-title' }, 'Start a run'),
    controls.map(([name, c]) => field(`Input: ${name}`, c)),
    advanced,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const run = await busy(submit, form, () => {
      const input = advanced.open ? parseInput(json.value) : fieldsInput();
      return api<Run>('POST', `/api/v3/workflows/${wf.id}/runs`, { input });
    });
    if (!run) return;
    rememberRun(run);
    location.hash = `#/workflows/${wf.id}/runs/${run.id}`;
  });
  return form;
}

function parseInput(text: string): object {
  let value: unknown;
  try {
    value = JSON.parse(text || '{}');
  } catch (err) {
    throw new Error(`The run input is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('The run input must be a JSON object');
  return value;
}

function nodesSection(wf: Workflow): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'nodes-title' },
    h('h2', { id: 'nodes-title' }, 'Nodes'),
    h(
      'ol',
      { class: 'plain' },
      wf.nodes.map((n) =>
        h(
          'li',
          {},
          h('code', {}, n.id),
          ' ',
          h('span', { class: 'type' }, n.type),
          n.depends_on?.length ? h('span', { class: 'meta' }, ` after ${n.depends_on.join(', ')}`) : null,
        ),
      ),
    ),
  );
}

function duration(r: RunSummary): string {
  if (!r.started_at || !r.finished_at) return '—';
  return fmtMs(new Date(r.finished_at).getTime() - new Date(r.started_at).getTime());
}

async function loadRuns(
  wf: Workflow,
  body: HTMLTableSectionElement,
  section: HTMLElement,
  cursor: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const page = await api<Page<RunSummary>>('GET', `/api/v3/workflows/${wf.id}/runs${query({ limit: 20, cursor })}`, undefined, { signal });
  for (const r of page.items) {
    body.append(
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, h('a', { href: `#/workflows/${wf.id}/runs/${r.id}` }, `Run ${r.id}`)),
        h('td', {}, badge(r.status)),
        h('td', {}, h('time', { datetime: r.created_at }, fmtTime(r.created_at))),
        h('td', { class: 'num' }, duration(r)),
        h('td', { class: 'num' }, `${fmtNumber(r.tokens_in)} / ${fmtNumber(r.tokens_out)}`),
        h('td', { class: 'num' }, fmtNumber(r.retries)),
      ),
    );
  }
  if (!page.items.length && !cursor) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No runs yet.')));
  const old = section.querySelector('.more');
  if (old) old.remove();
  const next = page.next_cursor;
  if (next) {
    const more = h('button', { type: 'button', class: 'more quiet' }, 'Load more runs');
    more.addEventListener('click', () => busy(more, section, () => loadRuns(wf, body, section, next, signal)));
    section.append(more);
  }
}

export async function workflowView({ root, signal }: ViewContext, id: number): Promise<void> {
  const wf = await api<Workflow>('GET', `/api/v3/workflows/${id}`, undefined, { signal });
  const body = h('tbody');
  const table = h(
    'table',
    {},
    h('caption', { class: 'sr-only' }, `Runs of ${wf.name}, newest first`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Run', 'Status', 'Created', 'Duration', 'Tokens in / out', 'Retries'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    body,
  );
  const runs = h(
    'section',
    { 'aria-labelledby': 'runs-title' },
    h('h2', { id: 'runs-title' }, 'Runs'),
    h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Runs table', tabindex: 0 }, table),
  );
  append(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/workflows' }, 'Workflows')),
    h('h1', {}, wf.name),
    wf.description ? h('p', {}, wf.description) : null,
    h(
      'p',
      { class: 'meta' },
      `version ${wf.version} · `,
      h('a', { href: `#/workflows/${wf.id}/analytics` }, 'Analytics'),
      ' · ',
      h('a', { href: `#/documents?workflow_id=${wf.id}` }, 'Documents'),
    ),
    h('div', { class: 'grid-2' }, startForm(wf), nodesSection(wf)),
    runs,
  );
  await loadRuns(wf, body, runs, undefined, signal);
}
