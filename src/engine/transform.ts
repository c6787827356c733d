import { render, type TemplateContext } from './template';
import type { WorkflowNode } from './definition';
import { NodeError } from './types';

type Op = Extract<WorkflowNode, { type: 'transform' }>['operations'][number];

/**
 * Largest text a transform may produce or work on (UTF-16 code units). Every operation here is
 * linear in its input, so this also bounds a transform's CPU: at most 20 operations over this
 * many characters. Beyond it the node fails, not retryably (the definition or its input is the
 * cause, and a retry would fail alike).
 */
export const MAX_TRANSFORM_CHARS = 2_000_000;

const tooLarge = (what: string) =>
  new NodeError(`transform ${what} would exceed ${MAX_TRANSFORM_CHARS} characters; the node's size budget`, false);

// ---- strip_markdown: one linear pass per rule ----------------------------------------------
//
// The rules and their order are those of the regular expressions this replaced; each is now a
// scan that looks at every character a bounded number of times. (The expressions were quadratic:
// `^\s*` tried again at every line start of a run of blank lines, `\[[^\]]*` again at every `[`
// without a `]`: 40,000 newlines took 2 s.) One rule is narrower than its expression was: list
// markers take spaces and tabs around them, not newlines, so blank lines before a list stay.

const isLineTerminator = (c: number) => c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
const isSpace = (c: number) =>
  c === 9 ||
  c === 10 ||
  c === 11 ||
  c === 12 ||
  c === 13 ||
  c === 32 ||
  c === 0xa0 ||
  c === 0x1680 ||
  (c >= 0x2000 && c <= 0x200a) ||
  c === 0x2028 ||
  c === 0x2029 ||
  c === 0x202f ||
  c === 0x205f ||
  c === 0x3000 ||
  c === 0xfeff;
const isBlank = (c: number) => c === 32 || c === 9;
const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number) => c >= 48 && c <= 57;
const atLineStart = (t: string, i: number) => i === 0 || isLineTerminator(t.charCodeAt(i - 1));

/**
 * The next occurrence of `needle` at or after a position. Every scan below asks with positions
 * that never decrease, so one cached answer serves every question up to it, and each `indexOf`
 * starts past the previous answer: all the questions of a scan cost one pass over the text.
 */
class Finder {
  private from = 0;
  private at = -2;
  constructor(
    private readonly t: string,
    private readonly needle: string,
  ) {}
  next(p: number): number {
    if (this.at === -1 && p >= this.from) return -1;
    if (this.at >= p && p >= this.from) return this.at;
    this.from = p;
    this.at = this.t.indexOf(this.needle, p);
    return this.at;
  }
}

/** The next line terminator at or after a position (the four that `.` does not cross), by the same rule. */
class LineEnds {
  private readonly finders: Finder[];
  constructor(t: string) {
    this.finders = ['\n', '\r', '\u2028', '\u2029'].map((c) => new Finder(t, c));
  }
  next(p: number): number {
    let best = -1;
    for (const f of this.finders) {
      const at = f.next(p);
      if (at !== -1 && (best === -1 || at < best)) best = at;
    }
    return best;
  }
}

/** ```lang … ```: the fence lines' markers go (with the language and one newline), the code stays. */
function stripFences(t: string): string {
  const fence = new Finder(t, '```');
  let out = '';
  let i = 0;
  while (i < t.length) {
    const open = fence.next(i);
    if (open === -1) break;
    const close = fence.next(open + 3);
    if (close === -1) break;
    out += t.slice(i, open);
    let body = open + 3;
    while (body < close && isWordChar(t.charCodeAt(body))) body++;
    if (body < close && t.charCodeAt(body) === 10) body++;
    out += t.slice(body, close);
    i = close + 3;
  }
  return out + t.slice(i);
}

/** At every line start where `match` finds a prefix to remove, removes it; `match` answers its length or 0. */
function stripLinePrefixes(t: string, match: (i: number) => number): string {
  const ends = new LineEnds(t);
  /** The first line start at or after `p`. */
  const lineStartFrom = (p: number) => {
    if (p >= t.length) return -1;
    if (atLineStart(t, p)) return p;
    const end = ends.next(p);
    return end === -1 ? -1 : end + 1;
  };
  let out = '';
  let copied = 0;
  for (let i = lineStartFrom(0); i !== -1 && i < t.length; ) {
    const len = match(i);
    if (len > 0) {
      out += t.slice(copied, i);
      copied = i + len;
      i = lineStartFrom(copied);
    } else i = lineStartFrom(i + 1);
  }
  return out + t.slice(copied);
}

/** `#{1,6}\s+` */
const headingPrefix = (t: string) => (i: number) => {
  let j = i;
  while (j < t.length && j - i < 7 && t.charCodeAt(j) === 35) j++;
  const hashes = j - i;
  if (hashes < 1 || hashes > 6 || j >= t.length || !isSpace(t.charCodeAt(j))) return 0;
  while (j < t.length && isSpace(t.charCodeAt(j))) j++;
  return j - i;
};

/** `[ \t]*` then `marker`, then `[ \t]+` */
const listPrefix = (t: string, marker: (j: number) => number) => (i: number) => {
  let j = i;
  while (j < t.length && isBlank(t.charCodeAt(j))) j++;
  const m = marker(j);
  if (m === 0) return 0;
  j += m;
  if (j >= t.length || !isBlank(t.charCodeAt(j))) return 0;
  while (j < t.length && isBlank(t.charCodeAt(j))) j++;
  return j - i;
};
const bullet = (t: string) => (j: number) => (j < t.length && '-*+'.includes(t[j]!) ? 1 : 0);
const ordinal = (t: string) => (j: number) => {
  let k = j;
  while (k < t.length && isDigit(t.charCodeAt(k))) k++;
  return k > j && t.charCodeAt(k) === 46 ? k + 1 - j : 0;
};

/** `>\s?` */
const quotePrefix = (t: string) => (i: number) => (t.charCodeAt(i) !== 62 ? 0 : i + 1 < t.length && isSpace(t.charCodeAt(i + 1)) ? 2 : 1);

/** `!?[text](url)` → text (`bang`: images, else links); text has no `]`, url no `)`, either may span lines. */
function stripLinks(t: string, bang: boolean): string {
  const opener = new Finder(t, bang ? '![' : '[');
  const closeBracket = new Finder(t, ']');
  const closeParen = new Finder(t, ')');
  let out = '';
  let copied = 0;
  for (let i = opener.next(0); i !== -1; i = opener.next(i + 1)) {
    const textStart = i + (bang ? 2 : 1);
    const end = closeBracket.next(textStart);
    if (end === -1) break; // no `]` from here on: no later opener can match either
    if (t.charCodeAt(end + 1) !== 40) continue;
    const paren = closeParen.next(end + 2);
    if (paren === -1) continue;
    out += t.slice(copied, i) + t.slice(textStart, end);
    copied = paren + 1;
    i = paren;
  }
  return out + t.slice(copied);
}

/**
 * `(d)(.*?)\1` → the inside, for a delimiter `d` of one or two characters (`**`, `__`, `*`, `_`):
 * the closing delimiter is the next one on the same line (`.` does not cross lines).
 */
function stripEmphasis(t: string, delims: [string, string]): string {
  const lineEnd = new LineEnds(t);
  const starts = delims.map((d) => new Finder(t, d));
  const closes = delims.map((d) => new Finder(t, d));
  let out = '';
  let copied = 0;
  for (let i = 0; i < t.length; i++) {
    // Jump to the next place either delimiter starts.
    const a = starts[0]!.next(i);
    const b = starts[1]!.next(i);
    if (a === -1 && b === -1) break;
    i = a === -1 ? b : b === -1 ? a : Math.min(a, b);
    const k = i === a ? 0 : 1;
    const d = delims[k]!;
    const close = closes[k]!.next(i + d.length);
    const eol = lineEnd.next(i + d.length);
    if (close === -1 || (eol !== -1 && eol < close)) continue;
    out += t.slice(copied, i) + t.slice(i + d.length, close);
    copied = close + d.length;
    i = copied - 1;
  }
  return out + t.slice(copied);
}

/** `` `code` `` → code; the code has no backtick and may span lines. */
function stripInlineCode(t: string): string {
  const tick = new Finder(t, '`');
  let out = '';
  let copied = 0;
  for (let i = tick.next(0); i !== -1; i = tick.next(i + 1)) {
    const close = tick.next(i + 1);
    if (close === -1) break;
    out += t.slice(copied, i) + t.slice(i + 1, close);
    copied = close + 1;
    i = close;
  }
  return out + t.slice(copied);
}

/** Markdown to plain text: code fences, headings, list markers, images, links, emphasis, inline code and quote markers removed. */
export function stripMarkdown(text: string): string {
  let t = stripFences(text);
  // A rule whose marker does not occur has nothing to do: skip its pass over every line start.
  if (t.includes('#')) t = stripLinePrefixes(t, headingPrefix(t));
  if (/[-*+]/.test(t)) t = stripLinePrefixes(t, listPrefix(t, bullet(t)));
  if (t.includes('.')) t = stripLinePrefixes(t, listPrefix(t, ordinal(t)));
  t = stripLinks(t, true);
  t = stripLinks(t, false);
  t = stripEmphasis(t, ['**', '__']);
  t = stripEmphasis(t, ['*', '_']);
  t = stripInlineCode(t);
  return t.includes('>') ? stripLinePrefixes(t, quotePrefix(t)) : t;
}

/** `replace` with `all`: the result's size is known before it is built, so it is refused, not built, when too large. */
function replaceAll(text: string, find: string, replacement: string): string {
  const parts = text.split(find);
  const size = text.length + (parts.length - 1) * (replacement.length - find.length);
  if (size > MAX_TRANSFORM_CHARS) throw tooLarge('output');
  return parts.join(replacement);
}

/** The first `max` code points (a surrogate pair is one), without splitting the text into an array. */
function truncateCodePoints(text: string, max: number): string {
  let i = 0;
  for (let n = 0; i < text.length && n < max; n++) i += (text.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return text.slice(0, i);
}

/** Applies the operations in order; every one is deterministic and linear in its input. */
export function applyTransform(source: string, ops: Op[], ctx: TemplateContext): string {
  if (source.length > MAX_TRANSFORM_CHARS) throw tooLarge('input');
  let text = source;
  for (const op of ops) {
    switch (op.op) {
      case 'uppercase':
        text = text.toUpperCase();
        break;
      case 'lowercase':
        text = text.toLowerCase();
        break;
      case 'trim':
        text = text.trim();
        break;
      case 'strip_markdown':
        text = stripMarkdown(text);
        break;
      case 'replace':
        // A function replacement: `$&`, `$'` and the other patterns of a string replacement are not interpreted.
        text = op.all ? replaceAll(text, op.find, op.replace) : text.replace(op.find, () => op.replace);
        break;
      case 'truncate':
        text = truncateCodePoints(text, op.max_chars);
        break;
      case 'prepend':
        text = render(op.text, ctx) + text;
        break;
      case 'append':
        text = text + render(op.text, ctx);
        break;
    }
    // Case mapping can lengthen a text (ß → SS); templates can be large.
    if (text.length > MAX_TRANSFORM_CHARS) throw tooLarge('output');
  }
  return text;
}
