/**
 * Shared tokenisation for the text-analysis functions: markdown to prose blocks, blocks to
 * sentences, sentences to words. Everything here is a pure function of its input so the
 * analyses built on it are deterministic.
 */

export type BlockKind = 'heading' | 'item' | 'paragraph';
/** A unit of prose from a markdown document, with inline markup removed; `depth` is a heading's level. */
export type Block = { kind: BlockKind; text: string; depth?: number };
/** A sentence and where it came from; `index` is its position in document order. */
export type Sentence = { text: string; kind: BlockKind; index: number };

const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+(.*)$/;
const FENCE = /^\s*(```|~~~)/;
const TABLE_RULE = /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;
const THEMATIC_BREAK = /^\s*([-*_])(\s*\1){2,}\s*$/;

/** Removes inline markdown and HTML so only the words a reader would see remain. */
export function stripInline(text: string): string {
  return text
    .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, ' ')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\p{L}\p{N}])[*_](\S(?:.*?\S)?)[*_](?=$|[^\p{L}\p{N}])/gu, '$1$2')
    .replace(/~~(.+?)~~/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Splits markdown into headings, list items and paragraphs. Code fences are dropped (code is not
 * prose and would skew every measure), as are table rules and thematic breaks; table cells are
 * kept as text. Plain text comes out as paragraphs separated by blank lines.
 */
export function markdownBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  let paragraph: string[] = [];
  let inFence = false;
  const flush = () => {
    const text = stripInline(paragraph.join(' '));
    if (text) blocks.push({ kind: 'paragraph', text });
    paragraph = [];
  };
  for (const rawLine of markdown.split(/\r?\n/)) {
    if (FENCE.test(rawLine)) {
      flush();
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const line = rawLine.replace(/^\s*>\s?/, '');
    if (!line.trim() || TABLE_RULE.test(line) || THEMATIC_BREAK.test(line)) {
      flush();
      continue;
    }
    const heading = HEADING.exec(line);
    const item = heading ? null : LIST_ITEM.exec(line);
    if (heading) {
      flush();
      const text = stripInline(heading[2] ?? '');
      if (text) blocks.push({ kind: 'heading', text, depth: heading[1]?.length ?? 1 });
      continue;
    }
    if (item) {
      flush();
      const text = stripInline(item[1] ?? '');
      if (text) blocks.push({ kind: 'item', text });
      continue;
    }
    paragraph.push(line.replace(/\|/g, ' '));
  }
  flush();
  return blocks;
}

// Abbreviations whose trailing period does not end a sentence. Lower-cased, without the final dot.
const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'approx',
  'inc',
  'ltd',
  'co',
  'no',
  'fig',
  'al',
]);

/**
 * Splits prose into sentences at `.`, `!`, `?` or `…` followed by whitespace and a capital, digit
 * or quote, unless the word before the period is a known abbreviation or a single initial.
 * Decimals ("3.5") never split because no whitespace follows their period.
 */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  const boundary = /([.!?…]+)["'”’)\]]*\s+(?=["'“‘([]?[\p{Lu}\p{N}])/gu;
  let start = 0;
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    const end = m.index + m[0].length;
    if (m[1] === '.') {
      const before = text.slice(start, m.index).split(/\s+/).pop() ?? '';
      const word = before.toLowerCase().replace(/^["'“‘(]+/, '');
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word)) continue;
    }
    const sentence = text.slice(start, end).trim();
    if (sentence) sentences.push(sentence);
    start = end;
  }
  const rest = text.slice(start).trim();
  if (rest) sentences.push(rest);
  return sentences;
}

/** Every sentence of a markdown document in order; a heading or list item counts as one sentence. */
export function documentSentences(markdown: string): Sentence[] {
  const out: Sentence[] = [];
  for (const block of markdownBlocks(markdown)) {
    const parts = block.kind === 'paragraph' ? splitSentences(block.text) : [block.text];
    for (const text of parts) out.push({ text, kind: block.kind, index: out.length });
  }
  return out;
}

const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;

/** The words of a text as written (letters and digits, with inner apostrophes and hyphens kept). */
export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

/**
 * How many words a text has for a word budget ("at most 40 words"): whitespace-separated tokens
 * (what `wc -w` or a reader counts, so a free-standing dash counts) or the words of `words`
 * ("e.g." and "3.5" are two each), whichever is more. Every word budget is checked with this one
 * count, so a text within it is within the budget however its words are counted.
 */
export function countWords(text: string): number {
  const tokens = text.match(/\S+/g)?.length ?? 0;
  return Math.max(tokens, words(text).length);
}

/** Lower-cased words, with the typographic apostrophe folded to the ASCII one. */
export function normalizedWords(text: string): string[] {
  return words(text).map((w) => w.toLowerCase().replace(/’/g, "'"));
}

/** The plain prose of a markdown document: blocks joined with blank lines. */
export function plainText(markdown: string): string {
  return markdownBlocks(markdown)
    .map((b) => b.text)
    .join('\n\n');
}

/**
 * FNV-1a, 32-bit. Used only to pick between template variants deterministically, so a weak but
 * stable hash is enough; it must never be used for anything security-relevant.
 */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Picks an element of a non-empty list by a hash, with `salt` so separate choices differ. */
export function pick<T>(options: readonly [T, ...T[]], hash: number, salt = 0): T {
  return options[((hash + Math.imul(salt, 0x9e3779b1)) >>> 0) % options.length] ?? options[0];
}

/** Cuts text to at most `maxChars` at a word boundary, without a dangling separator. */
export function truncateAtWord(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(0, maxChars + 1);
  const lastSpace = cut.search(/\s\S*$/);
  const head = lastSpace > 0 ? cut.slice(0, lastSpace) : text.slice(0, maxChars);
  return head.replace(/[\s,;:—–-]+$/, '');
}

/**
 * Cuts text to at most `maxChars`, preferring the end of a line (so markdown blocks stay whole)
 * when one falls in the second half of the budget, else a word boundary.
 */
export function truncateAtBoundary(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const lineEnd = text.lastIndexOf('\n', maxChars);
  if (lineEnd >= maxChars / 2) return text.slice(0, lineEnd).trimEnd();
  return truncateAtWord(text, maxChars);
}
