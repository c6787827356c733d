/** /console/timeline.js: the run's event log as a list, one line per event. */
import type { RunEvent } from './api-shapes.js';
import { fmtMs, h } from './dom.js';

function describe(e: RunEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'run.created':
      return `version ${d.workflow_version}`;
    case 'node.started':
      return `attempt ${d.attempt}${d.delay_ms ? ` after waiting ${fmtMs(d.delay_ms)}` : ''}`;
    case 'node.retry_scheduled':
      return `attempt ${d.attempt} failed (${d.error}); next in ${fmtMs(d.delay_ms)}`;
    case 'node.interrupted':
      return `attempt ${d.attempt} was interrupted and will run again`;
    case 'node.waiting':
      return d.reason === 'approval'
        ? `waiting for approval${d.message ? `: ${d.message}` : ''}`
        : `waiting for child run ${d.child_run_id}`;
    case 'node.edited':
      return `by user ${d.actor_user_id}: ${d.reviewed_node} edited (version ${d.version})${d.comment ? `: ${d.comment}` : ''}`;
    case 'node.changes_requested':
      return `by user ${d.actor_user_id}: ${d.comment}`;
    case 'node.approved':
    case 'node.rejected':
      return (d.timed_out ? 'on timeout' : `by user ${d.actor_user_id}`) + (d.comment ? `: ${d.comment}` : '');
    case 'node.succeeded':
      return [
        d.title ? `title "${d.title}"` : '',
        d.provider ? d.provider + (d.model ? ` / ${d.model}` : '') : '',
        d.tokens_out !== undefined ? `${d.tokens_in} tokens in, ${d.tokens_out} out` : '',
      ]
        .filter(Boolean)
        .join(' · ');
    case 'context.compacted':
      return 'upstream documents summarized to fit the context budget';
    default:
      return d.error || '';
  }
}

function time(at: number): HTMLTimeElement {
  const d = new Date(at);
  return h('time', { datetime: d.toISOString() }, d.toLocaleTimeString());
}

/**
 * Appends events to list. Consecutive node.token events of one node share a line that counts
 * them, so the generated text fills the node's card and the timeline stays readable.
 */
export function createTimeline(list: HTMLElement): (e: RunEvent) => void {
  let tokens: { node: string | null; count: number; chars: number; detail: HTMLSpanElement } | null = null;
  return function add(e) {
    if (e.type === 'node.token') {
      const chars = String(e.data.text || '').length;
      if (tokens && tokens.node === e.node_id) {
        tokens.count++;
        tokens.chars += chars;
      } else {
        tokens = { node: e.node_id, count: 1, chars, detail: h('span', { class: 'detail' }) };
        list.append(
          h(
            'li',
            { 'data-type': e.type },
            time(e.at),
            ' ',
            h('span', { class: 'ev' }, 'node.token'),
            ' ',
            h('code', {}, e.node_id),
            ' ',
            tokens.detail,
          ),
        );
      }
      tokens.detail.textContent = `${tokens.count}${tokens.count === 1 ? ' chunk, ' : ' chunks, '}${tokens.chars} characters streamed`;
      return;
    }
    tokens = null;
    const detail =
      e.type === 'document.created' ? h('a', { href: `#/documents/${e.data.document_id}` }, `document ${e.data.document_id}`) : describe(e);
    list.append(
      h(
        'li',
        { 'data-type': e.type, 'data-seq': e.seq },
        time(e.at),
        ' ',
        h('span', { class: 'ev' }, e.type),
        ' ',
        e.node_id ? h('code', {}, e.node_id) : null,
        e.node_id ? ' ' : null,
        detail ? h('span', { class: 'detail' }, detail) : null,
      ),
    );
  };
}
