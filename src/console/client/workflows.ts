/** /console/workflows.js: the list of workflows and creation from a built-in template. */
import type { Page, Workflow, WorkflowSummary } from './api-shapes.js';
import { api, query } from './api.js';
import { append, busy, field, fmtTime, h, toast, type ViewContext } from './dom.js';
import { TEMPLATES } from './templates.js';

function templateForm(): HTMLFormElement {
  const form = h('form', { class: 'card stack', 'aria-labelledby': 'new-wf-title' });
  const name = h('input', { name: 'name', required: true, maxlength: 200, value: TEMPLATES[0]!.definition.name });
  let nameEdited = false;
  name.addEventListener('input', () => {
    nameEdited = true;
  });

  const options = TEMPLATES.map((t, i) => {
    const radio = h('input', {
      type: 'radio',
      name: 'template',
      value: t.key,
      id: `tpl-${t.key}`,
      checked: i === 0,
      'aria-describedby': `tpl-${t.key}-desc`,
    });
    radio.addEventListener('change', () => {
      if (!nameEdited) name.value = t.definition.name;
    });
    return h(
      'div',
      { class: 'choice' },
      radio,
      h('label', { for: radio.id }, t.label),
      h('small', { id: `tpl-${t.key}-desc`, class: 'hint' }, t.description),
    );
  });
  const submit = h('button', { type: 'submit' }, 'Create workflow');
  append(
    form,
    h('h2', { id: 'new-wf-title' }, 'New workflow from a template'),
    h('fieldset', {}, h('legend', {}, 'Template'), options),
    field('Workflow name', name),
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = new FormData(form).get('template');
    // One radio is always checked: the first one is when the form is built.
    const template = TEMPLATES.find((t) => t.key === key);
    if (!template) return;
    const body = { ...template.definition, name: name.value.trim() };
    const created = await busy(submit, form, () => api<Workflow>('POST', '/api/v3/workflows', body));
    if (!created) return;
    toast(`Created workflow "${created.name}"`);
    location.hash = `#/workflows/${created.id}`;
  });
  return form;
}

function workflowCard(w: WorkflowSummary): HTMLLIElement {
  return h(
    'li',
    { class: 'card' },
    h('h3', {}, h('a', { href: `#/workflows/${w.id}` }, w.name)),
    w.description ? h('p', {}, w.description) : null,
    h(
      'p',
      { class: 'meta' },
      `version ${w.version} · ${w.node_count}${w.node_count === 1 ? ' node' : ' nodes'} · updated `,
      h('time', { datetime: w.updated_at }, fmtTime(w.updated_at)),
    ),
    h(
      'p',
      { class: 'links' },
      h('a', { href: `#/workflows/${w.id}`, 'aria-label': `Runs of ${w.name}` }, 'Runs'),
      h('a', { href: `#/workflows/${w.id}/analytics`, 'aria-label': `Analytics of ${w.name}` }, 'Analytics'),
    ),
  );
}

async function loadInto(list: HTMLUListElement, section: HTMLElement, cursor: string | undefined, signal: AbortSignal): Promise<void> {
  const page = await api<Page<WorkflowSummary>>('GET', `/api/v3/workflows${query({ limit: 20, cursor })}`, undefined, { signal });
  for (const w of page.items) list.append(workflowCard(w));
  const old = section.querySelector('.more');
  if (old) old.remove();
  if (!page.items.length && !cursor) list.append(h('li', { class: 'empty' }, 'No workflows yet: create one from a template.'));
  const next = page.next_cursor;
  if (next) {
    const more = h('button', { type: 'button', class: 'more quiet' }, 'Load more workflows');
    more.addEventListener('click', () => busy(more, section, () => loadInto(list, section, next, signal)));
    section.append(more);
  }
}

export async function workflowsView({ root, signal }: ViewContext): Promise<void> {
  const list = h('ul', { class: 'cards', 'aria-label': 'Workflows' });
  const section = h('section', { 'aria-labelledby': 'wf-list-title' }, h('h2', { id: 'wf-list-title' }, 'Your workflows'), list);
  append(root, h('h1', {}, 'Workflows'), h('div', { class: 'grid-2' }, section, templateForm()));
  await loadInto(list, section, undefined, signal);
}
