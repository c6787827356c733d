import {
  AlignmentType,
  BorderStyle,
  Document,
  ExternalHyperlink,
  HeadingLevel,
  LevelFormat,
  Packer,
  Paragraph,
  type ParagraphChild,
  TextRun,
} from 'docx';
import type { Block, Run } from './blocks';

/*
 * Markdown blocks as a Word document: headings use Word's built-in Heading 1–6 styles (so they
 * show in the navigation pane and a table of contents), list items are real numbered or bulleted
 * list paragraphs, emphasis is run formatting and links are hyperlinks.
 */
const HEADINGS = [
  HeadingLevel.HEADING_1,
  HeadingLevel.HEADING_1,
  HeadingLevel.HEADING_2,
  HeadingLevel.HEADING_3,
  HeadingLevel.HEADING_4,
  HeadingLevel.HEADING_5,
  HeadingLevel.HEADING_6,
] as const;

function runs(list: Run[]): ParagraphChild[] {
  return list.map((r) => {
    const text = new TextRun({
      text: r.text === '\n' ? '' : r.text,
      break: r.text === '\n' ? 1 : undefined,
      bold: r.bold,
      italics: r.italic,
      strike: r.strike,
      font: r.code ? 'Courier New' : undefined,
      style: r.link ? 'Hyperlink' : undefined,
    });
    return r.link ? new ExternalHyperlink({ link: r.link, children: [text] }) : text;
  });
}

function paragraph(b: Block): Paragraph[] {
  switch (b.kind) {
    case 'heading':
      return [new Paragraph({ heading: HEADINGS[b.level] ?? HeadingLevel.HEADING_6, children: runs(b.runs) })];
    case 'paragraph':
      return [new Paragraph({ children: runs(b.runs) })];
    case 'quote':
      return [new Paragraph({ style: 'Quote', indent: { left: 480 }, children: runs(b.runs.map((r) => ({ ...r, italic: true }))) })];
    case 'item':
      return [
        new Paragraph({
          children: runs(b.runs),
          ...(b.ordered
            ? { numbering: { reference: 'ordered', level: Math.min(b.depth, 8), instance: b.list } }
            : { bullet: { level: Math.min(b.depth, 8) } }),
        }),
      ];
    case 'code':
      return b.text.split('\n').map((line) => new Paragraph({ children: [new TextRun({ text: line, font: 'Courier New', size: 19 })] }));
    case 'rule':
      return [new Paragraph({ border: { bottom: { style: BorderStyle.SINGLE, size: 6, color: '999999', space: 1 } }, children: [] })];
  }
}

/** A .docx of the title (document property and first heading) and the Markdown blocks. */
export async function renderDocx(title: string, blocks: Block[]): Promise<Uint8Array> {
  const doc = new Document({
    title,
    creator: 'Document Workflow Chain',
    numbering: {
      config: [
        {
          reference: 'ordered',
          levels: Array.from({ length: 9 }, (_, level) => ({
            level,
            format: LevelFormat.DECIMAL,
            text: `%${level + 1}.`,
            alignment: AlignmentType.START,
            style: { paragraph: { indent: { left: 720 * (level + 1), hanging: 360 } } },
          })),
        },
      ],
    },
    sections: [{ children: blocks.flatMap(paragraph) }],
  });
  return new Uint8Array(await Packer.toArrayBuffer(doc));
}
