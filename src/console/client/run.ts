/**
 * /console/run.js: one run, filled in live from its event stream.
 *
 * Every piece of state remembers the sequence number it reflects (the run's events are numbered
 * by its Durable Object, and a run view carries last_event_seq). A snapshot from the API and the
 * events can then arrive in any order: whatever is older than what is shown is ignored, so a
 * refresh never rewinds a status and no streamed chunk is appended twice.
 */
import type { Run, RunEvent, RunNode, Workflow } from './api-shapes.js';
import { api } from './api.js';
import { append, badge, busy, field, fmtNumber, fmtTime, h, showError, toast, type ViewContext } from './dom.js';
import { openEventStream } from './sse.js';
import { createTimeline } from './timeline.js';
import { traceSection } from './trace.js';

const TERMINAL: readonly string[] = ['succeeded', 'failed', 'cancelled'];
const DONE_NODE: readonly string[] = ['succeeded', 'failed', 'skipped', 'cancelled'];
let remembered: Run | null = null;

/** A node card's elements; documentId is the document its link currently shows. */
type NodeEls = {
  card: HTMLElement;
  status: HTMLSpanElement;
  meta: HTMLParagraphElement;
  error: HTMLParagraphElement;
  approval: HTMLDivElement;
  message: HTMLParagraphElement;
  output: HTMLPreElement;
  doc: HTMLParagraphElement;
  fork: HTMLDetailsElement;
  documentId?: number | null;
};

/** What the page shows of one node, and the sequence number (seq) that state reflects. */
type NodeState = {
  id: string;
  type: string;
  seq: number;
  status: string;
  attempts: number;
  text: string;
  message?: string;
  error?: string | null;
  provider?: string | null;
  model?: string | null;
  tokensIn?: number;
  tokensOut?: number;
  compacted?: boolean;
  childRunId?: number | null;
  reusedFrom?: number | null;
  until?: string | null;
  title?: string | null;
  documentId?: number | null;
  el: NodeEls;
};

type RunState = { runSeq: number; status: string; error: string | null; nodes: Map<string, NodeState> };
type OnChange = (run: Run, message?: string) => void;

/** The answer of the POST that started a run: its page starts from it and replays every event after. */
export function rememberRun(run: Run): void {
  remembered = run;
}

function update(n: NodeState, changes: Partial<NodeState>): void {
  Object.assign(n, changes);
}

function nodeCard(n: RunNode, base: string, onChange: OnChange, prompt: string | undefined, reviewed: () => string): NodeEls {
  const el: NodeEls = {
    card: h('article', { class: 'node card', 'data-node': n.id, 'aria-labelledby': `node-${n.id}` }),
    status: h('span'),
    meta: h('p', { class: 'meta' }),
    error: h('p', { class: 'error-text' }),
    approval: h('div', { class: 'approval' }),
    message: h('p', { class: 'message' }),
    output: h('pre', { class: 'output', tabindex: 0, 'aria-label': `Output of ${n.id}` }),
    doc: h('p', { class: 'doc' }),
    fork: buildFork(n, base, prompt),
  };
  el.card.append(
    h('header', {}, h('h3', { id: `node-${n.id}` }, h('code', {}, n.id), ' ', h('span', { class: 'type' }, n.type)), el.status),
    el.meta,
    el.error,
    el.approval,
    el.output,
    el.doc,
    el.fork,
  );
  if (n.type === 'approval') buildApproval(n, el, base, onChange, reviewed);
  return el;
}

type Decision = 'approve' | 'reject' | 'edit' | 'request_changes';
const DECIDED: Record<Decision, string> = {
  approve: 'Approved',
  reject: 'Rejected',
  edit: 'Saved the edit and approved',
  request_changes: 'Requested changes at',
};

/**
 * The four review decisions (docs/engine.md, "Review"): approve, reject, request changes (the
 * comment says what to change) and edit, whose text area starts from the reviewed document.
 */
function buildApproval(n: RunNode, el: NodeEls, base: string, onChange: OnChange, reviewed: () => string): void {
  const box = el.approval;
  const comment = h('input', { name: 'comment', maxlength: 2000, autocomplete: 'off' });
  const text = h('textarea', { name: 'content', rows: 10, maxlength: 500000 });
  const send = async (button: HTMLButtonElement, decision: Decision) => {
    const body: { type: 'approval'; node_id: string; decision: Decision; comment?: string; content?: string } = {
      type: 'approval',
      node_id: n.id,
      decision,
    };
    if (comment.value.trim()) body.comment = comment.value.trim();
    else if (decision === 'request_changes') {
      showError(box, new Error('Say in the comment what to change, then request changes.'));
      comment.focus();
      return;
    }
    if (decision === 'edit') body.content = text.value;
    const run = await busy(button, box, () => api<Run>('POST', `${base}/events`, body));
    if (!run) return;
    // The next wait (after a request for changes) is a new decision: it starts from empty fields.
    comment.value = '';
    text.value = '';
    onChange(run, `${DECIDED[decision]} ${n.id}`);
  };
  const button = (decision: Decision, label: string, aria: string, cls = '') => {
    const b = h('button', { type: 'button', class: cls, 'aria-label': `${aria} ${n.id}` }, label);
    b.addEventListener('click', () => send(b, decision));
    return b;
  };
  const edit = h('details', { class: 'edit' }, h('summary', {}, 'Edit the document'));
  edit.addEventListener('toggle', () => {
    if (edit.open && !text.value) text.value = reviewed();
  });
  edit.append(
    field(`Edited text for ${n.id}`, text, 'Saving approves it: this text goes on to the next nodes'),
    button('edit', 'Save edit', 'Save edit at'),
  );
  box.append(
    el.message,
    field(`Comment on ${n.id} (optional)`, comment, 'Required to request changes: say what to change'),
    h(
      'div',
      { class: 'actions' },
      button('approve', 'Approve', 'Approve'),
      button('request_changes', 'Request changes', 'Request changes at', 'quiet'),
      button('reject', 'Reject', 'Reject', 'danger'),
    ),
    edit,
  );
}

/**
 * "Fork from here": a new run that runs this node and everything after it again (with the
 * prompt as edited, for nodes that have one) and reuses every other node's outcome.
 */
function buildFork(n: RunNode, base: string, prompt: string | undefined): HTMLDetailsElement {
  const box = h('details', { class: 'fork' }, h('summary', {}, 'Fork from here'));
  const form = h('form', {});
  const text = prompt === undefined ? null : h('textarea', { name: 'prompt', rows: 4, maxlength: 20000 });
  if (text) {
    text.value = prompt!;
    form.append(field(`Prompt of ${n.id} in the fork`, text));
  }
  const button = h('button', { type: 'submit', 'aria-label': `Fork the run from ${n.id}` }, 'Start the fork');
  form.append(button);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const overrides = text && text.value !== prompt ? { [n.id]: { prompt: text.value } } : {};
    const run = await busy(button, box, () => api<Run>('POST', `${base}/fork`, { from_node: n.id, overrides }));
    if (!run) return;
    rememberRun(run);
    location.hash = `#/workflows/${run.workflow_id}/runs/${run.id}`;
  });
  box.append(form);
  return box;
}

function setIfChanged(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

/** Updates only what changed, so focus and the reader's place survive a stream of events. */
function renderNode(n: NodeState): void {
  const el = n.el;
  if (el.card.dataset.status !== n.status) {
    el.card.dataset.status = n.status;
    el.status.replaceChildren(badge(n.status));
  }
  const parts = [`attempts: ${n.attempts}`];
  if (n.provider) parts.push(n.provider + (n.model ? ` / ${n.model}` : ''));
  if (n.provider === 'local') parts.push('not a language model');
  if (n.tokensIn || n.tokensOut) parts.push(`${fmtNumber(n.tokensIn)} tokens in, ${fmtNumber(n.tokensOut)} out`);
  if (n.compacted) parts.push('context compacted');
  if (n.title) parts.push(`title: ${n.title}`);
  if (n.childRunId) parts.push(`child run ${n.childRunId}`);
  if (n.reusedFrom) parts.push(`reused from run ${n.reusedFrom} (no new call)`);
  setIfChanged(el.meta, parts.join(' · '));
  setIfChanged(el.error, n.error || '');
  el.error.hidden = !n.error;
  const waiting = n.type === 'approval' && n.status === 'waiting';
  el.approval.hidden = !waiting;
  if (waiting) setIfChanged(el.message, (n.message || 'Waiting for a decision') + (n.until ? ` (until ${fmtTime(n.until)})` : ''));
  el.output.hidden = !n.text;
  el.output.setAttribute('aria-busy', String(n.status === 'running'));
  if (el.documentId !== n.documentId) {
    el.documentId = n.documentId;
    el.doc.replaceChildren(n.documentId ? h('a', { href: `#/documents/${n.documentId}` }, `Document ${n.documentId}`) : '');
  }
}

function setText(n: NodeState, text: string): void {
  n.text = text;
  if (n.el.output.textContent !== text) n.el.output.textContent = text;
}

function appendText(n: NodeState, chunk: string): void {
  const out = n.el.output;
  const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
  n.text += chunk;
  out.append(chunk);
  if (atEnd) out.scrollTop = out.scrollHeight;
}

/** Text nodes show their text; analyses and branches show their structured result. */
function outputText(v: RunNode): string {
  if (!v.output) return '';
  if ((v.type === 'analyze' || v.type === 'branch') && v.output.data) return JSON.stringify(v.output.data, null, 2);
  return v.output.text || '';
}

/** Applies a run view (from GET, POST or a control) to nodes it is newer than. */
function applySnapshot(state: RunState, run: Run): void {
  const seq = run.last_event_seq;
  // An equal sequence number describes the same state; the snapshot adds details events lack.
  if (seq >= state.runSeq) Object.assign(state, { runSeq: seq, status: run.status, error: run.error });
  for (const v of run.nodes) {
    const n = state.nodes.get(v.id);
    if (!n || seq < n.seq) continue;
    // A running node's text so far is only in its token events: keep replaying them.
    if (v.status === 'running') {
      if (n.seq === 0) n.status = 'running';
      continue;
    }
    update(n, {
      seq,
      status: v.status,
      attempts: v.attempts,
      error: v.error,
      provider: v.provider,
      model: v.model,
      tokensIn: v.tokens_in,
      tokensOut: v.tokens_out,
      compacted: v.context_compacted,
      childRunId: v.child_run_id,
      reusedFrom: v.reused_from_run_id,
      until: v.waiting_until,
      title: v.output ? v.output.title : null,
      documentId: v.output ? v.output.document_id : null,
    });
    setText(n, outputText(v));
  }
}

/** Applies one event to the run or to its node, unless a newer snapshot already covers it. */
function applyEvent(state: RunState, e: RunEvent): void {
  const d = e.data;
  if (!e.node_id) {
    if (e.seq <= state.runSeq) return;
    state.runSeq = e.seq;
    state.status = d.status || (e.type === 'run.created' ? 'queued' : state.status);
    if (e.type === 'run.failed' || e.type === 'run.cancelled') state.error = d.error || state.error;
    return;
  }
  const n = state.nodes.get(e.node_id);
  if (!n || e.seq <= n.seq) return;
  n.seq = e.seq;
  if (e.type === 'node.token') {
    appendText(n, String(d.text || ''));
    return;
  }
  if (e.type === 'node.started') {
    update(n, { status: 'running', attempts: d.attempt, error: null });
    setText(n, '');
  } else if (e.type === 'node.retry_scheduled') update(n, { status: 'retry_wait', error: d.error });
  else if (e.type === 'node.waiting') update(n, { status: 'waiting', message: d.message, until: d.until, childRunId: d.child_run_id });
  else if (e.type === 'document.created') n.documentId = d.document_id;
  else if (e.type === 'context.compacted') n.compacted = true;
  else if (e.type.startsWith('node.') && DONE_NODE.includes(e.type.slice(5))) {
    update(n, { status: e.type.slice(5), attempts: d.attempts !== undefined ? d.attempts : n.attempts, error: d.error || null });
    if (d.title) n.title = d.title;
    if (d.provider) update(n, { provider: d.provider, model: d.model, tokensIn: d.tokens_in, tokensOut: d.tokens_out });
    if (!n.text && d.preview) setText(n, d.preview);
  }
}

/** Where a fork comes from and which forks were made of this run, as links. */
function lineage(run: Run, workflowId: number): HTMLParagraphElement {
  const p = h('p', { class: 'meta lineage' });
  const link = (id: number) => h('a', { href: `#/workflows/${workflowId}/runs/${id}` }, `run ${id}`);
  if (run.forked_from) p.append('Forked from ', link(run.forked_from.run_id), ` at node ${run.forked_from.node_id}. `);
  if (run.forks.length) {
    p.append('Forks: ');
    run.forks.forEach((id, i) => {
      p.append(...(i ? [', '] : []), link(id));
    });
    p.append('.');
  }
  p.hidden = !p.childNodes.length;
  return p;
}

export async function runView({ root, signal }: ViewContext, workflowId: number, runId: number): Promise<void> {
  const base = `/api/v3/workflows/${workflowId}/runs/${runId}`;
  const fresh = remembered && remembered.id === runId && remembered.workflow_id === workflowId ? remembered : null;
  remembered = null;
  const [wf, initial] = await Promise.all([
    api<Workflow>('GET', `/api/v3/workflows/${workflowId}`, undefined, { signal }),
    fresh || api<Run>('GET', base, undefined, { signal }),
  ]);

  const state: RunState = { runSeq: 0, status: initial.status, error: null, nodes: new Map() };
  const statusEl = h('span', { id: 'run-status', role: 'status' });
  const streamEl = h('span', { class: 'stream-state' }, 'connecting');
  const errorEl = h('p', { class: 'error-text' });
  const controls = h('div', { class: 'actions', role: 'group', 'aria-label': 'Run controls' });
  const nodesEl = h('div', { class: 'nodes' });
  const timelineList = h('ol', { class: 'timeline' });
  const addToTimeline = createTimeline(timelineList);

  let refreshTimer: number | undefined;
  const onChange: OnChange = (run, message) => {
    applySnapshot(state, run);
    render();
    if (message) toast(message);
  };
  const refresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      api<Run>('GET', base, undefined, { signal }).then(
        (run) => onChange(run),
        (err) => {
          if (!signal.aborted) showError(root, err);
        },
      );
    }, 250);
  };

  // The approval message until a node.waiting event brings the one the run was pinned to.
  const definitions = new Map(wf.nodes.map((d) => [d.id, d]));
  for (const v of initial.nodes) {
    // An approval reviews its first dependency that wrote a document; edits start from that text.
    const reviewed = () => (definitions.get(v.id)?.depends_on ?? []).map((d) => state.nodes.get(d)).find((s) => s?.title)?.text ?? '';
    const el = nodeCard(v, base, onChange, definitions.get(v.id)?.prompt, reviewed);
    const message = definitions.get(v.id)?.message;
    state.nodes.set(v.id, { id: v.id, type: v.type, seq: 0, status: 'pending', attempts: 0, text: '', message, el });
    nodesEl.append(el.card);
  }

  const control = (action: string, label: string) => {
    const button = h(
      'button',
      { type: 'button', class: action === 'cancel' ? 'danger' : 'quiet', 'aria-label': `${label} run ${runId}` },
      label,
    );
    button.addEventListener('click', async () => {
      const run = await busy(button, root, () => api<Run>('POST', `${base}/${action}`));
      if (!run) return;
      onChange(run, `${label}: run is ${run.status}`);
      if (action === 'retry') stream.reopen();
    });
    controls.append(button);
    return button;
  };
  const buttons = {
    pause: control('pause', 'Pause'),
    resume: control('resume', 'Resume'),
    cancel: control('cancel', 'Cancel'),
    retry: control('retry', 'Retry'),
  };

  function render(): void {
    if (statusEl.textContent !== state.status) statusEl.replaceChildren(badge(state.status));
    setIfChanged(errorEl, state.error || '');
    errorEl.hidden = !state.error;
    const s = state.status;
    buttons.pause.disabled = !['queued', 'running', 'waiting'].includes(s);
    buttons.resume.disabled = s !== 'paused';
    buttons.cancel.disabled = TERMINAL.includes(s);
    buttons.retry.disabled = !['failed', 'cancelled'].includes(s);
    for (const n of state.nodes.values()) renderNode(n);
  }

  append(
    root,
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/workflows' }, 'Workflows'),
      ' / ',
      h('a', { href: `#/workflows/${workflowId}` }, wf.name),
    ),
    h('h1', {}, `Run ${runId}`),
    h(
      'p',
      { class: 'meta' },
      'Status: ',
      statusEl,
      ` · version ${initial.workflow_version} · created ${fmtTime(initial.created_at)} · live updates: `,
      streamEl,
    ),
    lineage(initial, workflowId),
    errorEl,
    controls,
    h('section', { 'aria-labelledby': 'nodes-title' }, h('h2', { id: 'nodes-title' }, 'Chain'), nodesEl),
    h(
      'section',
      { 'aria-labelledby': 'timeline-title' },
      h('h2', { id: 'timeline-title' }, 'Timeline'),
      h('div', { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Run events' }, timelineList),
    ),
    traceSection(base, runId),
    h('p', {}, h('a', { href: `#/documents?run_id=${runId}` }, 'Documents of this run')),
  );
  applySnapshot(state, initial);
  render();

  let streamedSeq = 0;
  const stream = openEventStream(`${base}/stream`, {
    onOpen() {
      streamEl.textContent = 'live';
    },
    onState(text) {
      streamEl.textContent = text;
    },
    // Finished only once the stream itself has delivered the end: a snapshot may know the run
    // ended while events in between are still to be shown in the timeline.
    isFinished: () => TERMINAL.includes(state.status) && streamedSeq >= state.runSeq,
    onEvent(frame) {
      const e: RunEvent = JSON.parse(frame.data);
      streamedSeq = Math.max(streamedSeq, e.seq);
      addToTimeline(e);
      applyEvent(state, e);
      render();
      if (e.type === 'document.created' || e.type.startsWith('run.') || (e.node_id && DONE_NODE.includes(e.type.slice(5)))) refresh();
    },
  });
  signal.addEventListener('abort', () => {
    stream.close();
    clearTimeout(refreshTimer);
  });
}
