import { PDFDocument, PDFString, type PDFFont, type PDFPage, rgb, StandardFonts } from 'pdf-lib';
import type { Block, Run } from './blocks';

/*
 * Markdown blocks laid out on A4 pages with pdf-lib's standard fonts (Helvetica and Courier), so
 * nothing is embedded and the file stays small. Those fonts carry the WinAnsi character set only
 * (Latin scripts, common punctuation): any other character is drawn as "?" rather than failing
 * the export. Embedding a Unicode font through @pdf-lib/fontkit would lift that, at ~1 MB of font.
 */
const PAGE = { width: 595.28, height: 841.89, margin: 56 };
const BODY = 11;
const HEADING = [0, 22, 18, 15, 13, 12, 11];
const LINK = rgb(0.07, 0.3, 0.75);

type Fonts = { regular: PDFFont; bold: PDFFont; italic: PDFFont; boldItalic: PDFFont; mono: PDFFont };
type Word = { text: string; font: PDFFont; size: number; link?: string | undefined; strike?: boolean | undefined; space: boolean };

class Layout {
  page: PDFPage;
  y: number;
  constructor(
    readonly doc: PDFDocument,
    readonly fonts: Fonts,
  ) {
    this.page = doc.addPage([PAGE.width, PAGE.height]);
    this.y = PAGE.height - PAGE.margin;
  }

  need(height: number) {
    if (this.y - height < PAGE.margin) {
      this.page = this.doc.addPage([PAGE.width, PAGE.height]);
      this.y = PAGE.height - PAGE.margin;
    }
  }

  /** Draws runs as wrapped lines from `indent`; `prefix` (a bullet or number) hangs to its left. */
  paragraph(runs: Run[], size: number, opts: { indent?: number; prefix?: string; bold?: boolean; after?: number } = {}) {
    const indent = opts.indent ?? 0;
    const left = PAGE.margin + indent;
    const width = PAGE.width - PAGE.margin - left;
    const lineHeight = size * 1.35;
    const lines = wrap(words(runs, this.fonts, size, opts.bold ?? false), width);
    lines.forEach((line, i) => {
      this.need(lineHeight);
      this.y -= lineHeight;
      if (i === 0 && opts.prefix) {
        this.page.drawText(encodable(opts.prefix, this.fonts.regular), { x: left - 14, y: this.y, size, font: this.fonts.regular });
      }
      let x = left;
      for (const w of line) {
        if (w.space && x === left) continue;
        const width = w.font.widthOfTextAtSize(w.text, w.size);
        this.page.drawText(w.text, { x, y: this.y, size: w.size, font: w.font, ...(w.link ? { color: LINK } : {}) });
        if (w.link) this.link(x, this.y, width, w.size, w.link);
        if (w.strike)
          this.page.drawLine({ start: { x, y: this.y + w.size * 0.3 }, end: { x: x + width, y: this.y + w.size * 0.3 }, thickness: 0.6 });
        x += width;
      }
    });
    this.y -= opts.after ?? size * 0.6;
  }

  link(x: number, y: number, width: number, size: number, uri: string) {
    const ctx = this.doc.context;
    const annot = ctx.register(
      ctx.obj({
        Type: 'Annot',
        Subtype: 'Link',
        Rect: [x, y - 2, x + width, y + size],
        Border: [0, 0, 0],
        A: { Type: 'Action', S: 'URI', URI: PDFString.of(uri) },
      }),
    );
    this.page.node.addAnnot(annot);
  }

  code(text: string) {
    const size = 9.5;
    const lineHeight = size * 1.3;
    for (const line of text.split('\n')) {
      this.need(lineHeight);
      this.y -= lineHeight;
      this.page.drawText(encodable(line.replace(/\t/g, '  '), this.fonts.mono), {
        x: PAGE.margin + 12,
        y: this.y,
        size,
        font: this.fonts.mono,
      });
    }
    this.y -= BODY * 0.6;
  }

  rule() {
    this.need(BODY);
    this.y -= BODY * 0.5;
    this.page.drawLine({
      start: { x: PAGE.margin, y: this.y },
      end: { x: PAGE.width - PAGE.margin, y: this.y },
      thickness: 0.5,
      color: rgb(0.6, 0.6, 0.6),
    });
    this.y -= BODY * 0.5;
  }
}

function fontFor(r: Run, f: Fonts, bold: boolean): PDFFont {
  if (r.code) return f.mono;
  const b = bold || r.bold;
  return b && r.italic ? f.boldItalic : b ? f.bold : r.italic ? f.italic : f.regular;
}

/** A character the font cannot encode becomes "?", so an export never fails on a stray emoji. */
function encodable(text: string, font: PDFFont): string {
  const set = charsets.get(font) ?? new Set(font.getCharacterSet());
  charsets.set(font, set);
  let out = '';
  for (const ch of text) out += set.has(ch.codePointAt(0)!) ? ch : '?';
  return out;
}
const charsets = new WeakMap<PDFFont, Set<number>>();

function words(runs: Run[], fonts: Fonts, size: number, bold: boolean): (Word | 'break')[] {
  const out: (Word | 'break')[] = [];
  for (const r of runs) {
    const font = fontFor(r, fonts, bold);
    for (const part of r.text.split(/(\n|\s+)/)) {
      if (!part) continue;
      if (part === '\n') out.push('break');
      else
        out.push({
          text: /^\s+$/.test(part) ? ' ' : encodable(part, font),
          font,
          size,
          link: r.link,
          strike: r.strike,
          space: /^\s+$/.test(part),
        });
    }
  }
  return out;
}

function wrap(items: (Word | 'break')[], width: number): Word[][] {
  const lines: Word[][] = [[]];
  let used = 0;
  for (const w of items) {
    if (w === 'break') {
      lines.push([]);
      used = 0;
      continue;
    }
    const wWidth = w.font.widthOfTextAtSize(w.text, w.size);
    if (!w.space && used + wWidth > width && used > 0) {
      lines.push([]);
      used = 0;
    }
    if (w.space && used === 0) continue;
    lines[lines.length - 1]!.push(w);
    used += wWidth;
  }
  return lines.filter((l, i) => l.length > 0 || i === 0);
}

/** A PDF of the title (as the document title and first heading) and the Markdown blocks. */
export async function renderPdf(title: string, blocks: Block[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  doc.setProducer('Document Workflow Chain');
  const fonts: Fonts = {
    regular: await doc.embedFont(StandardFonts.Helvetica),
    bold: await doc.embedFont(StandardFonts.HelveticaBold),
    italic: await doc.embedFont(StandardFonts.HelveticaOblique),
    boldItalic: await doc.embedFont(StandardFonts.HelveticaBoldOblique),
    mono: await doc.embedFont(StandardFonts.Courier),
  };
  const layout = new Layout(doc, fonts);
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading': {
        const size = HEADING[b.level] ?? BODY;
        layout.y -= size * 0.4;
        layout.paragraph(b.runs, size, { bold: true, after: size * 0.4 });
        break;
      }
      case 'paragraph':
        layout.paragraph(b.runs, BODY);
        break;
      case 'quote':
        layout.paragraph(
          b.runs.map((r) => ({ ...r, italic: true })),
          BODY,
          { indent: 18 },
        );
        break;
      case 'item':
        layout.paragraph(b.runs, BODY, { indent: 18 + b.depth * 18, prefix: b.ordered ? `${b.number}.` : '•', after: BODY * 0.25 });
        break;
      case 'code':
        layout.code(b.text);
        break;
      case 'rule':
        layout.rule();
        break;
    }
  }
  return doc.save();
}
