import { SELF } from 'cloudflare:test';
import { Document, ExternalHyperlink, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { BASE } from './helpers';

/** A multipart upload through the whole worker, as a browser form or `curl -F` sends it. */
export async function upload(path: string, token: string, file: File | null, fields: Record<string, string> = {}) {
  const form = new FormData();
  if (file) form.set('file', file);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  const res = await SELF.fetch(`${BASE}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** A DOCX made in the test with the docx library: a heading, a paragraph with bold text and a link, and bullets. */
export async function makeDocx(heading: string, paragraphs: string[], bullets: string[] = []): Promise<File> {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ heading: HeadingLevel.HEADING_1, children: [new TextRun(heading)] }),
          ...paragraphs.map(
            (p, i) =>
              new Paragraph({
                children:
                  i === 0
                    ? [
                        new TextRun({ text: p, bold: true }),
                        new TextRun(' See '),
                        new ExternalHyperlink({ link: 'https://example.com/more', children: [new TextRun('more')] }),
                      ]
                    : [new TextRun(p)],
              }),
          ),
          ...bullets.map((b) => new Paragraph({ bullet: { level: 0 }, children: [new TextRun(b)] })),
        ],
      },
    ],
  });
  const bytes = new Uint8Array(await Packer.toArrayBuffer(doc));
  return new File([bytes], 'notes.docx', { type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' });
}

/** A PDF made in the test with pdf-lib: each paragraph drawn as one line of text on its own page area. */
export async function makePdf(title: string, paragraphs: string[]): Promise<File> {
  const pdf = await PDFDocument.create();
  pdf.setTitle(title);
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  let page = pdf.addPage([595, 842]);
  let y = 780;
  for (const p of paragraphs) {
    if (y < 80) {
      page = pdf.addPage([595, 842]);
      y = 780;
    }
    page.drawText(p, { x: 50, y, size: 10, font });
    y -= 40;
  }
  return new File([await pdf.save()], 'report.pdf', { type: 'application/pdf' });
}
