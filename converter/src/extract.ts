import { strFromU8, unzipSync } from 'fflate';
import { extractText, getDocumentProxy } from 'unpdf';

/*
 * Files to Markdown. PDF: the text layer through pdf.js (unpdf's build for serverless runtimes,
 * no eval, no canvas); a PDF has no headings or lists to keep, so its pages become paragraphs,
 * and a scanned PDF without a text layer yields no text (refused upstream as empty). DOCX: the
 * package's word/document.xml read directly — headings from the paragraph styles, list items from
 * numbering properties, bold/italic runs, hyperlinks from the relationships part. HTML: streamed
 * through the runtime's HTMLRewriter; scripts, styles and unknown markup are dropped.
 */

export class ExtractError extends Error {
  override name = 'ExtractError';
}

export async function pdfToMarkdown(bytes: Uint8Array): Promise<{ markdown: string; title: string | null; pages: number }> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(bytes);
  } catch (err) {
    throw new ExtractError(`Not a readable PDF: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { text, totalPages } = await extractText(pdf, { mergePages: false });
  const meta = await pdf.getMetadata().catch(() => null);
  const info = meta?.info as { Title?: unknown } | undefined;
  const title = typeof info?.Title === 'string' && info.Title.trim() ? info.Title.trim() : null;
  const markdown = text
    .map((page) =>
      page
        .split(/\n{2,}/)
        .map((para) => para.replace(/\s*\n\s*/g, ' ').trim())
        .filter(Boolean)
        .join('\n\n'),
    )
    .filter(Boolean)
    .join('\n\n');
  return { markdown, title, pages: totalPages };
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const xmlText = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return XML_ENTITIES[e] ?? m;
  });
const attr = (tag: string, name: string) => new RegExp(`${name}="([^"]*)"`).exec(tag)?.[1];

/** Markdown-escapes characters that would otherwise start markup inside a run of plain text. */
const escapeMd = (s: string) => s.replace(/([\\`*_[\]])/g, '\\$1');

function docxRuns(xml: string, links: Map<string, string>): string {
  let out = '';
  // Runs, possibly wrapped in hyperlinks; anything else in the paragraph (bookmarks, proofing) is skipped.
  const re = /<w:hyperlink\b([^>]*)>([\s\S]*?)<\/w:hyperlink>|<w:r\b[^>]*>([\s\S]*?)<\/w:r>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    if (m[2] !== undefined) {
      const target = links.get(attr(m[1] ?? '', 'r:id') ?? '');
      const inner = docxRuns(m[2], links);
      out += target && /^(https?:|mailto:)/i.test(target) ? `[${inner}](${target})` : inner;
      continue;
    }
    const run = m[3] ?? '';
    const props = /<w:rPr>([\s\S]*?)<\/w:rPr>/.exec(run)?.[1] ?? '';
    const on = (tag: string) => new RegExp(`<w:${tag}(?: w:val="(?:true|1|on)")?\\s*/>`).test(props);
    let text = '';
    for (const t of run.matchAll(/<w:t(?:\s[^>]*)?>([\s\S]*?)<\/w:t>|<w:tab\s*\/>|<w:br\s*\/>/g))
      text += t[1] !== undefined ? escapeMd(xmlText(t[1])) : t[0].startsWith('<w:tab') ? '\t' : '\\\n';
    if (!text.trim()) {
      out += text;
      continue;
    }
    const lead = /^\s*/.exec(text)![0];
    const trail = /\s*$/.exec(text)![0];
    let core = text.trim();
    if (on('i')) core = `*${core}*`;
    if (on('b')) core = `**${core}**`;
    out += lead + core + trail;
  }
  return out;
}

export function docxToMarkdown(bytes: Uint8Array): { markdown: string; title: string | null } {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (f) => f.name === 'word/document.xml' || f.name === 'word/_rels/document.xml.rels' || f.name === 'docProps/core.xml',
    });
  } catch {
    throw new ExtractError('Not a readable DOCX file (not a ZIP package)');
  }
  const documentXml = files['word/document.xml'];
  if (!documentXml) throw new ExtractError('Not a DOCX file: word/document.xml is missing');
  const links = new Map<string, string>();
  const rels = files['word/_rels/document.xml.rels'];
  if (rels)
    for (const r of strFromU8(rels).matchAll(/<Relationship\b[^>]*>/g)) {
      const id = attr(r[0], 'Id');
      const target = attr(r[0], 'Target');
      if (id && target && /hyperlink/.test(attr(r[0], 'Type') ?? '')) links.set(id, xmlText(target));
    }
  const core = files['docProps/core.xml'];
  const coreTitle = core ? /<dc:title>([\s\S]*?)<\/dc:title>/.exec(strFromU8(core))?.[1] : undefined;
  const paragraphs: string[] = [];
  let inList = false;
  for (const p of strFromU8(documentXml).matchAll(/<w:p\b[^>]*?(?:\/>|>([\s\S]*?)<\/w:p>)/g)) {
    const body = p[1] ?? '';
    const props = /<w:pPr>([\s\S]*?)<\/w:pPr>/.exec(body)?.[1] ?? '';
    const style = /<w:pStyle w:val="([^"]*)"/.exec(props)?.[1] ?? '';
    const text = docxRuns(body.replace(/<w:pPr>[\s\S]*?<\/w:pPr>/, ''), links).trim();
    if (!text) continue;
    const heading = /^heading\s*(\d)$/i.exec(style)?.[1];
    const level = Number(/<w:ilvl w:val="(\d+)"/.exec(props)?.[1] ?? 0);
    const item = /<w:numPr>/.test(props) || /^list/i.test(style);
    // Consecutive list items stay one Markdown list; anything else is its own paragraph.
    const line = heading
      ? `${'#'.repeat(Math.min(Number(heading), 6))} ${text}`
      : /^title$/i.test(style)
        ? `# ${text}`
        : item
          ? `${'  '.repeat(level)}- ${text}`
          : text;
    if (item && inList) paragraphs[paragraphs.length - 1] += `\n${line}`;
    else paragraphs.push(line);
    inList = item;
  }
  return { markdown: paragraphs.join('\n\n'), title: coreTitle ? xmlText(coreTitle).trim() || null : null };
}

/** HTML to Markdown: block elements become Markdown blocks, inline emphasis and links are kept. */
export async function htmlToMarkdown(html: string): Promise<{ markdown: string; title: string | null }> {
  let out = '';
  let title = '';
  let inTitle = false;
  let skip = 0;
  let pre = 0;
  const listStack: { ordered: boolean; n: number }[] = [];
  const block = (prefix = '') => {
    out = out.replace(/[ \t]+$/, '');
    if (out && !out.endsWith('\n\n')) out += out.endsWith('\n') ? '\n' : '\n\n';
    out += prefix;
  };
  const wrapInline = (marker: string): HTMLRewriterElementContentHandlers => ({
    element(el) {
      out += marker;
      el.onEndTag(() => {
        out += marker;
      });
    },
  });
  const rewriter = new HTMLRewriter()
    .on('script, style, noscript, template, svg, head > *:not(title)', {
      element(el) {
        skip++;
        el.onEndTag(() => {
          skip--;
        });
      },
    })
    .on('title', {
      element(el) {
        inTitle = true;
        el.onEndTag(() => {
          inTitle = false;
        });
      },
    })
    .on('h1, h2, h3, h4, h5, h6', {
      element(el) {
        block(`${'#'.repeat(Number(el.tagName.slice(1)))} `);
        el.onEndTag(() => block());
      },
    })
    .on('p, div, section, article, blockquote, table, tr', {
      element(el) {
        block(el.tagName === 'blockquote' ? '> ' : '');
        el.onEndTag(() => block());
      },
    })
    .on('td, th', {
      element() {
        out += ' | ';
      },
    })
    .on('ul, ol', {
      element(el) {
        listStack.push({ ordered: el.tagName === 'ol', n: 0 });
        if (listStack.length === 1) block();
        el.onEndTag(() => {
          listStack.pop();
          if (listStack.length === 0) block();
        });
      },
    })
    .on('li', {
      element() {
        const list = listStack[listStack.length - 1];
        if (list) list.n++;
        out = out.replace(/[ \t]+$/, '');
        if (out && !out.endsWith('\n')) out += '\n';
        out += `${'  '.repeat(Math.max(0, listStack.length - 1))}${list?.ordered ? `${list.n}.` : '-'} `;
      },
    })
    .on('br', {
      element() {
        out += '\\\n';
      },
    })
    .on('pre', {
      element(el) {
        block('```\n');
        pre++;
        el.onEndTag(() => {
          pre--;
          out += '\n```';
          block();
        });
      },
    })
    .on('strong, b', wrapInline('**'))
    .on('em, i', wrapInline('*'))
    .on('code', {
      element(el) {
        if (pre) return;
        out += '`';
        el.onEndTag(() => {
          out += '`';
        });
      },
    })
    .on('a[href]', {
      element(el) {
        const href = el.getAttribute('href') ?? '';
        if (!/^(https?:|mailto:)/i.test(href.trim())) return;
        out += '[';
        el.onEndTag(() => {
          out += `](${href.trim().replace(/\)/g, '%29')})`;
        });
      },
    })
    .onDocument({
      text(t) {
        if (skip) return;
        const text = htmlText(t.text);
        if (inTitle) title += text;
        else if (pre) out += text;
        else {
          // Whitespace collapses as a browser collapses it: never two spaces, none at a line's start.
          const collapsed = text.replace(/\s+/g, ' ');
          out += escapeMd(/(^|\s)$/.test(out) ? collapsed.replace(/^ /, '') : collapsed);
        }
      },
    });
  await rewriter.transform(new Response(html)).text();
  const markdown = out
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { markdown, title: title.trim() || null };
}

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };
/** HTMLRewriter hands text as written in the source, entities included. */
const htmlText = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#' && e !== '#39')
      return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return HTML_ENTITIES[e.toLowerCase()] ?? m;
  });
