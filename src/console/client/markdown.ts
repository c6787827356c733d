import { h } from './dom.js';

/*
 * A document's Markdown as DOM nodes, for reading. Sanitised by construction: every piece of
 * text becomes a text node and every element is one of a fixed few made with `h()`, so nothing
 * in a document (HTML, scripts, event attributes) is ever parsed as markup; links keep only
 * http(s), mailto and in-page targets. The subset is what generated documents use: headings,
 * paragraphs, lists, quotes, fenced code, rules, and inline code, bold, italics and links.
 */
type Inline = string | HTMLElement;

const SAFE_URL = /^(https?:|mailto:|#)/i;

function inline(text: string): Inline[] {
  const out: Inline[] = [];
  // `code`, **bold**, *italic* or _italic_, [label](url): the earliest match wins, the rest is text.
  const pattern = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*\s][^*]*)\*|(?<![\w])_([^_\s][^_]*)_(?![\w])|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const [, code, bold, em, em2, label, url] = m;
    if (code !== undefined) out.push(h('code', {}, code));
    else if (bold !== undefined) out.push(h('strong', {}, ...inline(bold)));
    else if (em !== undefined || em2 !== undefined) out.push(h('em', {}, ...inline((em ?? em2)!)));
    else if (label !== undefined && url !== undefined)
      out.push(SAFE_URL.test(url) ? h('a', { href: url, rel: 'noopener noreferrer nofollow' }, ...inline(label)) : `${label} (${url})`);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const FENCE = /^\s*(```|~~~)/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;

/** Renders Markdown text as a list of block elements. */
export function renderMarkdown(text: string): HTMLElement[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: HTMLElement[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trim().startsWith(fence[1]!); i++) body.push(lines[i]!);
      i++;
      blocks.push(h('pre', {}, h('code', {}, body.join('\n'))));
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      // A document's own title is its page's h1: its headings start one level below.
      const level = Math.min(6, heading[1]!.length + 1) as 2 | 3 | 4 | 5 | 6;
      blocks.push(h(`h${level}`, {}, ...inline(heading[2]!)));
      i++;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push(h('hr'));
      i++;
      continue;
    }
    const list = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : undefined;
    if (list) {
      const items: HTMLElement[] = [];
      for (; i < lines.length && list.test(lines[i]!); i++) items.push(h('li', {}, ...inline(list.exec(lines[i]!)![1]!)));
      blocks.push(list === BULLET ? h('ul', {}, ...items) : h('ol', {}, ...items));
      continue;
    }
    if (line.trimStart().startsWith('>')) {
      const quoted: string[] = [];
      for (; i < lines.length && lines[i]!.trimStart().startsWith('>'); i++) quoted.push(lines[i]!.trimStart().replace(/^>\s?/, ''));
      blocks.push(h('blockquote', {}, ...renderMarkdown(quoted.join('\n'))));
      continue;
    }
    const para: string[] = [];
    for (
      ;
      i < lines.length &&
      lines[i]!.trim() &&
      !HEADING.test(lines[i]!) &&
      !FENCE.test(lines[i]!) &&
      !BULLET.test(lines[i]!) &&
      !NUMBERED.test(lines[i]!);
      i++
    )
      para.push(lines[i]!.trim());
    blocks.push(h('p', {}, ...inline(para.join(' '))));
  }
  return blocks;
}
