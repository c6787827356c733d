/** /console/documents.js: document search and list, one document with its versions. */
export default String.raw`
import { api, query } from './api.js';
import { append, busy, field, fmtTime, h } from './dom.js';

function searchForm(params) {
  const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '', maxlength: 200 });
  const run = h('input', { type: 'number', name: 'run_id', min: 1, inputmode: 'numeric', value: params.get('run_id') || '' });
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': 'Search documents' },
    field('Search text', q, 'Full-text search over titles and contents'),
    field('Run id', run),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), h('a', { href: '#/documents', class: 'button quiet' }, 'Clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = query({ q: q.value.trim(), run_id: run.value, workflow_id: params.get('workflow_id'), parent_id: params.get('parent_id') });
    location.hash = '#/documents' + next;
  });
  return form;
}

function documentCard(d) {
  return h('li', { class: 'card' },
    h('h3', {}, h('a', { href: '#/documents/' + d.id }, d.title || 'Document ' + d.id)),
    h('p', { class: 'meta' },
      d.kind + (d.node_id ? ' · node ' + d.node_id : '') + (d.run_id ? ' · run ' + d.run_id : '') + ' · version ' + d.version + ' · updated ',
      h('time', { datetime: d.updated_at }, fmtTime(d.updated_at))),
    h('p', { class: 'excerpt' }, d.excerpt));
}

async function loadInto(list, section, filters, cursor, signal) {
  const page = await api('GET', '/api/v3/documents' + query(Object.assign({ limit: 20, cursor }, filters)), undefined, { signal });
  for (const d of page.items) list.append(documentCard(d));
  if (!page.items.length && !cursor) list.append(h('li', { class: 'empty' }, 'No documents match.'));
  const old = section.querySelector('.more');
  if (old) old.remove();
  if (page.next_cursor) {
    const more = h('button', { type: 'button', class: 'more quiet' }, 'Load more documents');
    more.addEventListener('click', () => busy(more, section, () => loadInto(list, section, filters, page.next_cursor, signal)));
    section.append(more);
  }
}

export async function documentsView({ root, signal }, params) {
  const filters = { q: params.get('q'), run_id: params.get('run_id'), workflow_id: params.get('workflow_id'), parent_id: params.get('parent_id') };
  const list = h('ul', { class: 'cards', 'aria-label': 'Documents' });
  const described = [filters.q ? 'matching "' + filters.q + '"' : '', filters.run_id ? 'of run ' + filters.run_id : '', filters.workflow_id ? 'of workflow ' + filters.workflow_id : '', filters.parent_id ? 'continued from document ' + filters.parent_id : ''].filter(Boolean).join(', ');
  const section = h('section', { 'aria-labelledby': 'docs-title' }, h('h2', { id: 'docs-title' }, described ? 'Documents ' + described : 'All documents, newest first'), list);
  append(root, h('h1', {}, 'Documents'), searchForm(params), section);
  await loadInto(list, section, filters, undefined, signal);
}

function metaList(doc) {
  const rows = [
    ['Kind', doc.kind],
    ['Current version', String(doc.version)],
    ['Run', doc.run_id && doc.workflow_id ? h('a', { href: '#/workflows/' + doc.workflow_id + '/runs/' + doc.run_id }, 'Run ' + doc.run_id) : null],
    ['Node', doc.node_id],
    ['Generated from', doc.parent_id ? h('a', { href: '#/documents/' + doc.parent_id }, 'Document ' + doc.parent_id) : null],
    ['Children', h('a', { href: '#/documents?parent_id=' + doc.id }, 'Documents continued from this one')],
    ['Created', fmtTime(doc.created_at)],
    ['Updated', fmtTime(doc.updated_at)],
  ].filter(([, v]) => v !== null && v !== undefined);
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function documentView({ root, signal }, id, version) {
  const [doc, versions, shown] = await Promise.all([
    api('GET', '/api/v3/documents/' + id, undefined, { signal }),
    api('GET', '/api/v3/documents/' + id + '/versions', undefined, { signal }),
    version ? api('GET', '/api/v3/documents/' + id + '/versions/' + version, undefined, { signal }) : null,
  ]);
  const current = shown || { version: doc.version, title: doc.title, content: doc.content, created_at: doc.updated_at };
  const isOld = current.version !== doc.version;
  const versionList = h('ol', { class: 'versions', reversed: true },
    versions.items.map((v) => h('li', {},
      h('a', Object.assign({ href: '#/documents/' + id + '/versions/' + v.version }, v.version === current.version ? { 'aria-current': 'page' } : {}),
        'Version ' + v.version),
      ' · ' + fmtTime(v.created_at) + (v.created_by ? ' · by user ' + v.created_by : ''))));
  append(root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/documents' }, 'Documents')),
    h('h1', {}, current.title || 'Document ' + id),
    isOld ? h('p', { class: 'notice' }, 'You are viewing version ' + current.version + ' of ' + doc.version + '. ', h('a', { href: '#/documents/' + id }, 'View the current version')) : null,
    h('div', { class: 'doc-layout' },
      h('article', { class: 'card', 'aria-label': 'Version ' + current.version + ' content' },
        h('p', { class: 'meta' }, 'Version ' + current.version + ' · ' + fmtTime(current.created_at)),
        h('div', { class: 'doc-content', 'data-version': current.version }, current.content)),
      h('aside', { class: 'card', 'aria-labelledby': 'doc-about' },
        h('h2', { id: 'doc-about' }, 'About this document'), metaList(doc),
        h('h2', {}, 'Versions'), versionList)));
}
`;
