import { Lexer, type MarkedToken, type Token, type Tokens } from 'marked';

/**
 * Markdown as the flat list of blocks that a page-layout format (PDF, DOCX) draws: headings,
 * paragraphs, list items with their depth, code, quotes and rules, each paragraph a list of runs
 * carrying their emphasis and link. Parsed by marked's lexer, the same CommonMark/GFM reading the
 * HTML export uses, so the three formats agree on what is a heading or a list.
 */
export type Run = { text: string; bold?: boolean; italic?: boolean; code?: boolean; strike?: boolean; link?: string };
export type Block =
  | { kind: 'heading'; level: number; runs: Run[] }
  | { kind: 'paragraph'; runs: Run[] }
  | { kind: 'item'; ordered: boolean; number: number; depth: number; list: number; runs: Run[] }
  | { kind: 'quote'; runs: Run[] }
  | { kind: 'code'; text: string }
  | { kind: 'rule' };

type Style = Omit<Run, 'text'>;

/** Only these link targets survive into a file: a `javascript:` link in a PDF is still a script. */
export const safeLink = (href: string): string | undefined => (/^(https?:|mailto:)/i.test(href.trim()) ? href.trim() : undefined);

// marked's Token union includes a catch-all `Generic` shape, so narrowing needs the closed union.
const closed = (t: Token) => t as MarkedToken;

function inline(tokens: Token[] | undefined, style: Style, out: Run[]): Run[] {
  for (const raw of tokens ?? []) {
    const t = closed(raw);
    switch (t.type) {
      case 'strong':
        inline(t.tokens, { ...style, bold: true }, out);
        break;
      case 'em':
        inline(t.tokens, { ...style, italic: true }, out);
        break;
      case 'del':
        inline(t.tokens, { ...style, strike: true }, out);
        break;
      case 'codespan':
        out.push({ ...style, code: true, text: decode(t.text) });
        break;
      case 'link': {
        const link = safeLink(t.href);
        inline(t.tokens, link ? { ...style, link } : style, out);
        break;
      }
      case 'image':
        out.push({ ...style, text: t.text ? `[image: ${t.text}]` : '[image]' });
        break;
      case 'br':
        out.push({ ...style, text: '\n' });
        break;
      case 'text':
        if (t.tokens?.length) inline(t.tokens, style, out);
        else out.push({ ...style, text: decode(t.text) });
        break;
      case 'escape':
        out.push({ ...style, text: t.text });
        break;
      default:
        // Inline HTML and anything unknown: kept as plain text, never interpreted.
        if ('raw' in t && t.raw) out.push({ ...style, text: t.raw });
    }
  }
  return out;
}

/** marked leaves HTML entities of the source in text tokens (`&amp;`); a file wants the characters. */
function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|#39|nbsp);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (k.startsWith('#x')) return String.fromCodePoint(Number.parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(Number(k.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', nbsp: '\u00a0' } as Record<string, string>)[k] ?? m;
  });
}

function blocks(tokens: Token[], depth: number, out: Block[]): Block[] {
  for (const raw of tokens) {
    const t = closed(raw);
    switch (t.type) {
      case 'heading':
        out.push({ kind: 'heading', level: t.depth, runs: inline(t.tokens, {}, []) });
        break;
      case 'paragraph':
        out.push({ kind: 'paragraph', runs: inline(t.tokens, {}, []) });
        break;
      case 'text':
        out.push({ kind: 'paragraph', runs: inline(t.tokens ?? [{ type: 'text', raw: t.raw, text: t.text }], {}, []) });
        break;
      case 'list':
        list(t, depth, out);
        break;
      case 'blockquote':
        for (const b of blocks(t.tokens, depth, []))
          out.push(b.kind === 'paragraph' || b.kind === 'heading' ? { kind: 'quote', runs: b.runs } : b);
        break;
      case 'code':
        out.push({ kind: 'code', text: t.text });
        break;
      case 'hr':
        out.push({ kind: 'rule' });
        break;
      case 'table':
        out.push({ kind: 'paragraph', runs: row(t.header) });
        for (const cells of t.rows) out.push({ kind: 'paragraph', runs: row(cells) });
        break;
      case 'html':
        if (t.text.trim()) out.push({ kind: 'paragraph', runs: [{ text: t.text.trim() }] });
        break;
      default:
        break;
    }
  }
  return out;
}

function row(cells: Tokens.TableCell[]): Run[] {
  return cells.flatMap((c, i) => [...(i > 0 ? [{ text: ' | ' }] : []), ...inline(c.tokens, { bold: c.header }, [])]);
}

let lists = 0;

function list(t: Tokens.List, depth: number, out: Block[]) {
  // Each list gets its own id, so a format that numbers lists itself (DOCX) restarts at each one.
  const id = ++lists;
  let number = typeof t.start === 'number' ? t.start : 1;
  for (const item of t.items) {
    const [first, ...rest] = item.tokens;
    const head = first ? closed(first) : undefined;
    const runs =
      head && (head.type === 'text' || head.type === 'paragraph')
        ? inline(head.tokens ?? [{ type: 'text', raw: head.raw, text: head.text }], {}, [])
        : [];
    out.push({ kind: 'item', ordered: t.ordered, number, depth, list: id, runs });
    blocks(head && (head.type === 'text' || head.type === 'paragraph') ? rest : item.tokens, depth + 1, out);
    number++;
  }
}

export function markdownBlocks(markdown: string): Block[] {
  return blocks(Lexer.lex(markdown, { gfm: true }), 0, []);
}

/** The plain text of a block's runs. */
export const runText = (runs: Run[]) => runs.map((r) => r.text).join('');
