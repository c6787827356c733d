import { diffWordsWithSpace } from 'diff';
import { ApiError } from '../lib/errors';

export type Change = { type: 'equal' | 'insert' | 'delete'; text: string };
/**
 * One place where the versions differ: `deleted` stands at `from_offset` in the older text and
 * `inserted` at `to_offset` in the newer one (offsets and lengths in UTF-16 code units, as
 * JavaScript indexes strings). Applying every hunk to the older text gives the newer.
 */
export type Hunk = { from_offset: number; from_length: number; to_offset: number; to_length: number; deleted: string; inserted: string };

// Myers' algorithm is O((N+M)·D): two long, very different texts would spend seconds of CPU.
// Past this many edits (in words and spaces) the diff is refused rather than left to run.
const MAX_EDIT_LENGTH = 20_000;

/**
 * A word-level diff (jsdiff's diffWordsWithSpace: words, whitespace runs and punctuation are the
 * units, so a changed space shows too) as ordered changes and as hunks.
 */
export function wordDiff(from: string, to: string): { changes: Change[]; hunks: Hunk[] } {
  const parts = diffWordsWithSpace(from, to, { maxEditLength: MAX_EDIT_LENGTH });
  if (!parts) throw new ApiError('bad_request', 'These versions differ too much for a word-level diff; compare closer versions');
  const changes: Change[] = parts.map((p) => ({ type: p.added ? 'insert' : p.removed ? 'delete' : 'equal', text: p.value }));
  const hunks: Hunk[] = [];
  let a = 0;
  let b = 0;
  let open: Hunk | null = null;
  for (const c of changes) {
    if (c.type === 'equal') {
      open = null;
      a += c.text.length;
      b += c.text.length;
      continue;
    }
    if (!open) {
      open = { from_offset: a, from_length: 0, to_offset: b, to_length: 0, deleted: '', inserted: '' };
      hunks.push(open);
    }
    if (c.type === 'delete') {
      open.deleted += c.text;
      open.from_length += c.text.length;
      a += c.text.length;
    } else {
      open.inserted += c.text;
      open.to_length += c.text.length;
      b += c.text.length;
    }
  }
  return { changes, hunks };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** The changes as an HTML fragment: insertions in `<ins>`, deletions in `<del>`, all text escaped. */
export function redlineHtml(changes: Change[]): string {
  return changes
    .map((c) =>
      c.type === 'equal'
        ? escapeHtml(c.text)
        : c.type === 'insert'
          ? `<ins>${escapeHtml(c.text)}</ins>`
          : `<del>${escapeHtml(c.text)}</del>`,
    )
    .join('');
}

/** Words (not whitespace) added and removed. */
export function diffStats(changes: Change[]) {
  const words = (t: string) => t.match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu)?.length ?? 0;
  return {
    inserted_words: changes.filter((c) => c.type === 'insert').reduce((n, c) => n + words(c.text), 0),
    deleted_words: changes.filter((c) => c.type === 'delete').reduce((n, c) => n + words(c.text), 0),
  };
}
