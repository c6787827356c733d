import { env } from 'cloudflare:test';
import { strFromU8, unzipSync } from 'fflate';
import { extractText, getDocumentProxy } from 'unpdf';
import { describe, expect, it } from 'vitest';
import { converter } from '../../src/documents/converter';

const MD = `# Field guide

An **important** paragraph with *emphasis* and a [link](https://example.com/guide).

## Steps

1. First step
2. Second step

- A bullet
  - A nested bullet

> A quoted line

\`\`\`
code block
\`\`\`
`;

describe('converter worker', () => {
  it('renders a PDF whose text layer holds the headings, paragraphs and list items', async () => {
    const bytes = await converter(env).render('Field guide', MD, 'pdf');
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe('%PDF-');
    const { text } = await extractText(await getDocumentProxy(bytes), { mergePages: true });
    for (const s of [
      'Field guide',
      'Steps',
      'An important paragraph with emphasis and a link.',
      'First step',
      'A nested bullet',
      'code block',
    ])
      expect(text).toContain(s);
  });

  it('renders a DOCX whose XML holds heading styles, list numbering, emphasis and the hyperlink', async () => {
    const bytes = await converter(env).render('Field guide', MD, 'docx');
    const files = unzipSync(bytes);
    const xml = strFromU8(files['word/document.xml']!);
    expect(xml).toMatch(/<w:pStyle w:val="Heading1"\/>[\s\S]*?<w:t[^>]*>Field guide<\/w:t>/);
    expect(xml).toMatch(/<w:pStyle w:val="Heading2"\/>[\s\S]*?<w:t[^>]*>Steps<\/w:t>/);
    expect(xml).toMatch(/<w:b\/>[\s\S]*?<w:t[^>]*>important<\/w:t>/);
    expect(xml).toMatch(/<w:numPr>[\s\S]*?<w:t[^>]*>First step<\/w:t>/);
    expect(xml).toContain('<w:hyperlink');
    expect(strFromU8(files['word/_rels/document.xml.rels']!)).toContain('https://example.com/guide');
  });

  it('reads back what it writes: DOCX and HTML to Markdown keep headings, lists, emphasis and links', async () => {
    const docx = await converter(env).render('Field guide', MD, 'docx');
    const fromDocx = await converter(env).toMarkdown(docx, 'docx');
    expect(fromDocx.ok).toBe(true);
    if (!fromDocx.ok) return;
    expect(fromDocx.markdown).toContain('# Field guide');
    expect(fromDocx.markdown).toContain('## Steps');
    expect(fromDocx.markdown).toContain('**important**');
    expect(fromDocx.markdown).toContain('[link](https://example.com/guide)');
    expect(fromDocx.markdown).toMatch(/- First step\n- Second step/);

    const html = `<html><head><title>Page</title><style>p{}</style></head><body><h1>Hello &amp; welcome</h1>
      <p>Some <b>bold</b> and <a href="https://x.test/a">a link</a> and <a href="javascript:alert(1)">no link</a>.</p>
      <ul><li>one</li><li>two</li></ul><script>alert(1)</script></body></html>`;
    const fromHtml = await converter(env).toMarkdown(new TextEncoder().encode(html), 'html');
    expect(fromHtml).toEqual({
      ok: true,
      title: 'Page',
      markdown: '# Hello & welcome\n\nSome **bold** and [a link](https://x.test/a) and no link.\n\n- one\n- two',
    });
  });

  it('reads the text layer of a PDF, and refuses what is not one', async () => {
    const pdf = await converter(env).render('Report', '# Quarterly report\n\nRevenue grew in the northern region.', 'pdf');
    const r = await converter(env).toMarkdown(pdf, 'pdf');
    expect(r.ok && r.markdown).toContain('Revenue grew in the northern region.');
    const bad = await converter(env).toMarkdown(new TextEncoder().encode('not a pdf'), 'pdf');
    expect(bad.ok).toBe(false);
    const badDocx = await converter(env).toMarkdown(new TextEncoder().encode('not a zip'), 'docx');
    expect(badDocx.ok).toBe(false);
  });
});
