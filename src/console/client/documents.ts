/** /console/documents.js: document search and list, one document with its versions. */
import type { Document, DocumentCitations, DocumentSummary, DocumentVersion, Page } from './api-shapes.js';
import { renderMarkdown } from './markdown.js';
import { api, query } from './api.js';
import { append, busy, type Child, field, fmtTime, h, type ViewContext } from './dom.js';

type Filters = { q: string | null; run_id: string | null; workflow_id: string | null; parent_id: string | null };

function searchForm(params: URLSearchParams): HTMLFormElement {
  const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '', maxlength: 200 });
  const run = h('input', { type: 'number', name: 'run_id', min: 1, inputmode: 'numeric', value: params.get('run_id') || '' });
  const form = h(
    'form',
    { class: 'card filters', role: 'search', 'aria-label': 'Search documents' },
    field('Search text', q, 'Full-text search over titles and contents'),
    field('Run id', run),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Search'),
      h('a', { href: '#/documents', class: 'button quiet' }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const next = query({
      q: q.value.trim(),
      run_id: run.value,
      workflow_id: params.get('workflow_id'),
      parent_id: params.get('parent_id'),
    });
    location.hash = `#/documents${next}`;
  });
  return form;
}

function documentCard(d: DocumentSummary): HTMLLIElement {
  return h(
    'li',
    { class: 'card' },
    h('h3', {}, h('a', { href: `#/documents/${d.id}` }, d.title || `Document ${d.id}`)),
    h(
      'p',
      { class: 'meta' },
      `${d.kind}${d.node_id ? ` · node ${d.node_id}` : ''}${d.run_id ? ` · run ${d.run_id}` : ''} · version ${d.version} · updated `,
      h('time', { datetime: d.updated_at }, fmtTime(d.updated_at)),
    ),
    h('p', { class: 'excerpt' }, d.excerpt),
  );
}

async function loadInto(
  list: HTMLUListElement,
  section: HTMLElement,
  filters: Filters,
  cursor: string | undefined,
  signal: AbortSignal,
): Promise<void> {
  const page = await api<Page<DocumentSummary>>('GET', `/api/v3/documents${query({ limit: 20, cursor, ...filters })}`, undefined, {
    signal,
  });
  for (const d of page.items) list.append(documentCard(d));
  if (!page.items.length && !cursor) list.append(h('li', { class: 'empty' }, 'No documents match.'));
  const old = section.querySelector('.more');
  if (old) old.remove();
  const next = page.next_cursor;
  if (next) {
    const more = h('button', { type: 'button', class: 'more quiet' }, 'Load more documents');
    more.addEventListener('click', () => busy(more, section, () => loadInto(list, section, filters, next, signal)));
    section.append(more);
  }
}

export async function documentsView({ root, signal }: ViewContext, params: URLSearchParams): Promise<void> {
  const filters: Filters = {
    q: params.get('q'),
    run_id: params.get('run_id'),
    workflow_id: params.get('workflow_id'),
    parent_id: params.get('parent_id'),
  };
  const list = h('ul', { class: 'cards', 'aria-label': 'Documents' });
  const described = [
    filters.q ? `matching "${filters.q}"` : '',
    filters.run_id ? `of run ${filters.run_id}` : '',
    filters.workflow_id ? `of workflow ${filters.workflow_id}` : '',
    filters.parent_id ? `continued from document ${filters.parent_id}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const section = h(
    'section',
    { 'aria-labelledby': 'docs-title' },
    h('h2', { id: 'docs-title' }, described ? `Documents ${described}` : 'All documents, newest first'),
    list,
  );
  append(root, h('h1', {}, 'Documents'), searchForm(params), section);
  await loadInto(list, section, filters, undefined, signal);
}

function metaList(doc: Document): HTMLDListElement {
  const rows: [string, Child][] = [
    ['Kind', doc.kind],
    ['Current version', String(doc.version)],
    [
      'Run',
      doc.run_id && doc.workflow_id ? h('a', { href: `#/workflows/${doc.workflow_id}/runs/${doc.run_id}` }, `Run ${doc.run_id}`) : null,
    ],
    ['Node', doc.node_id],
    ['Generated from', doc.parent_id ? h('a', { href: `#/documents/${doc.parent_id}` }, `Document ${doc.parent_id}`) : null],
    ['Children', h('a', { href: `#/documents?parent_id=${doc.id}` }, 'Documents continued from this one')],
    ['Created', fmtTime(doc.created_at)],
    ['Updated', fmtTime(doc.updated_at)],
  ];
  const shown = rows.filter(([, v]) => v !== null && v !== undefined);
  return h(
    'dl',
    { class: 'facts' },
    shown.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

/**
 * Who or what wrote the document, said plainly: text from the local provider carries a visible
 * label, since it was written by deterministic text algorithms and not by a language model.
 */
function provenanceLabel(doc: Document): HTMLParagraphElement | null {
  const p = doc.provenance;
  const edit = p.reviews.findLast((r) => r.decision === 'edit');
  const edited = edit ? ` A reviewer replaced its text (version ${edit.document_version}).` : '';
  if (p.provider === 'local')
    return h(
      'p',
      { class: 'label local-provider', role: 'note' },
      `Not written by a language model: the local provider drafted this with text algorithms.${edited}`,
    );
  if (p.language_model)
    return h('p', { class: 'label', role: 'note' }, `Written by a language model: ${p.provider} / ${p.model}.${edited}`);
  return null;
}

function reviewList(doc: Document): HTMLElement | null {
  const reviews = doc.provenance.reviews;
  if (!reviews.length) return null;
  return h(
    'ol',
    { class: 'reviews', 'aria-label': 'Review decisions' },
    reviews.map((r) =>
      h(
        'li',
        {},
        `${r.decision.replace('_', ' ')} at ${r.node_id}`,
        r.timed_out ? ' (on timeout)' : r.actor_user_id ? ` by user ${r.actor_user_id}` : '',
        r.document_version ? ` → version ${r.document_version}` : '',
        r.comment ? `: ${r.comment}` : '',
        ' · ',
        h('time', { datetime: r.at }, fmtTime(r.at)),
      ),
    ),
  );
}

function citationList(cited: DocumentCitations | null): HTMLElement | null {
  if (!cited?.items.length) return null;
  return h(
    'ol',
    { class: 'citations', 'aria-label': 'Cited sources' },
    cited.items.map((c) =>
      h(
        'li',
        {},
        h('strong', {}, `[${c.marker}]`),
        ` paragraph ${c.paragraph + 1} cites `,
        c.chunk
          ? [
              `${c.chunk.title || 'a source'} (knowledge base ${c.chunk.knowledge_base_id}, chunk ${c.chunk_id})`,
              h('blockquote', {}, c.chunk.text.slice(0, 400)),
            ]
          : `chunk ${c.chunk_id} (its source was deleted since)`,
      ),
    ),
  );
}

export async function documentView({ root, signal }: ViewContext, id: number, version: number | null): Promise<void> {
  const [doc, versions, shown] = await Promise.all([
    api<Document>('GET', `/api/v3/documents/${id}`, undefined, { signal }),
    api<{ items: DocumentVersion[] }>('GET', `/api/v3/documents/${id}/versions`, undefined, { signal }),
    version ? api<DocumentVersion>('GET', `/api/v3/documents/${id}/versions/${version}`, undefined, { signal }) : null,
  ]);
  const cited = doc.provenance.citations.length
    ? await api<DocumentCitations>('GET', `/api/v3/documents/${id}/citations`, undefined, { signal })
    : null;
  const reviews = reviewList(doc);
  const citations = citationList(cited);
  const current = shown || { version: doc.version, title: doc.title, content: doc.content, created_at: doc.updated_at };
  const isOld = current.version !== doc.version;
  // The Markdown rendered for reading (sanitised: text nodes only, src/console/client/markdown.ts),
  // and the stored text exactly as it is, one toggle away.
  const formatted = h('div', { class: 'doc-content', 'data-version': current.version }, renderMarkdown(current.content));
  const raw = h('pre', { class: 'doc-raw', 'data-version': current.version, hidden: true }, current.content);
  const rawToggle = h('button', { type: 'button', class: 'link', 'aria-pressed': 'false' }, 'Show raw Markdown');
  rawToggle.addEventListener('click', () => {
    const showRaw = raw.hidden;
    raw.hidden = !showRaw;
    formatted.hidden = showRaw;
    rawToggle.setAttribute('aria-pressed', String(showRaw));
    rawToggle.textContent = showRaw ? 'Show formatted' : 'Show raw Markdown';
  });
  const versionList = h(
    'ol',
    { class: 'versions', reversed: true },
    versions.items.map((v) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: `#/documents/${id}/versions/${v.version}`, 'aria-current': v.version === current.version ? 'page' : null },
          `Version ${v.version}`,
        ),
        ` · ${fmtTime(v.created_at)}${v.created_by ? ` · by user ${v.created_by}` : ''}`,
      ),
    ),
  );
  append(
    root,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/documents' }, 'Documents')),
    h('h1', {}, current.title || `Document ${id}`),
    provenanceLabel(doc),
    isOld
      ? h(
          'p',
          { class: 'notice' },
          `You are viewing version ${current.version} of ${doc.version}. `,
          h('a', { href: `#/documents/${id}` }, 'View the current version'),
        )
      : null,
    h(
      'div',
      { class: 'doc-layout' },
      h(
        'article',
        { class: 'card', 'aria-label': `Version ${current.version} content` },
        h('p', { class: 'meta' }, `Version ${current.version} · ${fmtTime(current.created_at)}`, ' · ', rawToggle),
        formatted,
        raw,
      ),
      h(
        'aside',
        { class: 'card', 'aria-labelledby': 'doc-about' },
        h('h2', { id: 'doc-about' }, 'About this document'),
        metaList(doc),
        h('h2', {}, 'Versions'),
        versionList,
        citations ? [h('h2', {}, 'Sources cited'), citations] : null,
        reviews ? [h('h2', {}, 'Reviews'), reviews] : null,
      ),
    ),
  );
}
