import { env, SELF } from 'cloudflare:test';
import { strFromU8, unzipSync } from 'fflate';
import { extractText, getDocumentProxy } from 'unpdf';
import { beforeAll, describe, expect, it } from 'vitest';
import { signedPath } from '../../src/exports/links';
import { api, BASE, createWorkflow, expectError, poll, registerAndLogin, startRun, unique, waitForRun } from '../helpers';

let token: string;
let docId: number;

const CONTENT = `# Field notes

Our **survey** covered *three* sites. See [the map](https://example.com/map) and [this](javascript:alert(1)).

## Findings

- Nesting pairs rose
- Predators were fewer

1. Count again in May
2. Publish the data

<script>alert('x')</script><img src=x onerror=alert(1)>
`;

/** A GET through the worker, as raw bytes. */
async function raw(path: string, t?: string) {
  const res = await SELF.fetch(`${BASE}${path}`, { headers: t ? { authorization: `Bearer ${t}` } : {} });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

const pdfText = async (bytes: Uint8Array) => (await extractText(await getDocumentProxy(bytes), { mergePages: true })).text;
const docxXml = (bytes: Uint8Array) => strFromU8(unzipSync(bytes)['word/document.xml']!);

beforeAll(async () => {
  token = (await registerAndLogin(unique('exp'))).token;
  docId = (await api('POST', '/api/v3/documents', { token, body: { title: 'Field notes', content: CONTENT } })).json.id;
});

describe('document export', () => {
  it('Markdown is the stored text, byte for byte, as an attachment', async () => {
    const r = await raw(`/api/v3/documents/${docId}/export?format=md`, token);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="Field-notes.md"');
    expect(new TextDecoder().decode(r.bytes)).toBe(CONTENT);
  });

  it('HTML is rendered from the Markdown and sanitised: headings, lists, emphasis and safe links kept; scripts gone', async () => {
    const r = await raw(`/api/v3/documents/${docId}/export?format=html`, token);
    const html = new TextDecoder().decode(r.bytes);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('<title>Field notes</title>');
    expect(html).toContain('<h1>Field notes</h1>');
    expect(html).toContain('<h2>Findings</h2>');
    expect(html).toContain('<strong>survey</strong>');
    expect(html).toContain('<em>three</em>');
    expect(html).toContain('<li>Nesting pairs rose</li>');
    expect(html).toMatch(/<ol>\s*<li>Count again in May<\/li>/);
    expect(html).toContain('<a href="https://example.com/map">the map</a>');
    expect(html).not.toMatch(/javascript:|<script|onerror/i);
  });

  it('PDF keeps the headings, paragraphs and list items (read back with pdf.js)', async () => {
    const r = await raw(`/api/v3/documents/${docId}/export?format=pdf`, token);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/pdf');
    const text = await pdfText(r.bytes);
    for (const s of ['Field notes', 'Findings', 'Our survey covered three sites.', 'Nesting pairs rose', 'Count again in May'])
      expect(text).toContain(s);
  });

  it('DOCX keeps heading styles, emphasis, lists and links (read back from its XML)', async () => {
    const r = await raw(`/api/v3/documents/${docId}/export?format=docx`, token);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="Field-notes.docx"');
    const xml = docxXml(r.bytes);
    expect(xml).toMatch(/<w:pStyle w:val="Heading1"\/>[\s\S]*?Field notes/);
    expect(xml).toMatch(/<w:pStyle w:val="Heading2"\/>[\s\S]*?Findings/);
    expect(xml).toMatch(/<w:b\/>[\s\S]*?survey/);
    expect(xml).toMatch(/<w:numPr>[\s\S]*?Count again in May/);
    expect(xml).toContain('<w:hyperlink');
  });

  it('refuses an unknown format (400) and another user’s document (404)', async () => {
    expectError(await api('GET', `/api/v3/documents/${docId}/export?format=rtf`, { token }), 400, 'validation_error');
    const other = await registerAndLogin(unique('expother'));
    expectError(await api('GET', `/api/v3/documents/${docId}/export?format=md`, { token: other.token }), 404, 'not_found');
  });
});

describe('run export', () => {
  it("exports a run's final document, or all of them in order, read from D1", async () => {
    const wf = await createWorkflow(token, {
      name: 'Report chain',
      nodes: [
        { id: 'outline', type: 'generate', prompt: 'Outline a report on {{input.topic}}' },
        { id: 'draft', type: 'generate', depends_on: ['outline'], prompt: 'Write the report from:\n{{nodes.outline.output}}' },
      ],
    });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'river otters' })).id);
    const [outline, draft] = await Promise.all(
      run.nodes.map(async (n) => (await api('GET', `/api/v3/documents/${n.output!.document_id}`, { token })).json),
    );
    const final = await raw(`/api/v3/workflows/${wf.id}/runs/${run.id}/export?format=md`, token);
    expect(new TextDecoder().decode(final.bytes)).toBe(draft.content);
    const all = await raw(`/api/v3/workflows/${wf.id}/runs/${run.id}/export?format=md&documents=all`, token);
    const md = new TextDecoder().decode(all.bytes);
    expect(md.indexOf(outline.content.slice(0, 40))).toBeLessThan(md.indexOf(draft.content.slice(0, 40)));
    expect(md).toContain('\n\n---\n\n');
    const docx = docxXml((await raw(`/api/v3/workflows/${wf.id}/runs/${run.id}/export?format=docx&documents=all`, token)).bytes);
    expect(docx.match(/<w:pStyle w:val="Heading1"\/>/g)!.length).toBeGreaterThanOrEqual(2);
    const other = await registerAndLogin(unique('runpeek'));
    expectError(await api('GET', `/api/v3/workflows/${wf.id}/runs/${run.id}/export?format=md`, { token: other.token }), 404, 'not_found');
  });
});

describe('background exports', () => {
  it('a large export is built by a task into R2 and downloaded with credentials or a signed link', async () => {
    // A deployment whose inline limit this document exceeds: the same request becomes a background export.
    const small = { ...env, EXPORT_INLINE_MAX_BYTES: '100' } as Env;
    const started = await api('GET', `/api/v3/documents/${docId}/export?format=pdf`, { token, env: small });
    expect(started.status, JSON.stringify(started.json)).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v3/exports/${started.json.id}`);
    expect(started.json).toMatchObject({
      status: 'queued',
      scope: 'document',
      format: 'pdf',
      filename: 'Field-notes.pdf',
      download_url: null,
    });
    const id = started.json.id;
    const ready = await poll(
      () => api('GET', `/api/v3/exports/${id}`, { token }),
      (r) => r.json.status !== 'queued',
      { what: `export ${id}`, timeoutMs: 20_000 },
    );
    expect(ready.json).toMatchObject({ status: 'ready', download_url: `/api/v3/exports/${id}/download`, error: null });
    expect(ready.json.bytes).toBeGreaterThan(500);

    const viaAuth = await raw(ready.json.download_url, token);
    expect(viaAuth.status).toBe(200);
    expect(viaAuth.headers.get('cache-control')).toBe('private, no-store');
    expect(viaAuth.bytes.byteLength).toBe(ready.json.bytes);
    // pdf.js takes over (detaches) the buffer it reads: give it a copy.
    expect(await pdfText(viaAuth.bytes.slice())).toContain('Nesting pairs rose');

    const viaLink = await raw(ready.json.signed_url);
    expect(viaLink.status).toBe(200);
    expect(viaLink.bytes).toEqual(viaAuth.bytes);
    expect((await raw(ready.json.signed_url.replace(/signature=./, 'signature=A'))).status).toBe(404);
    const expired = await signedPath(env, id, Date.now() - 16 * 60_000);
    expect((await raw(expired.path)).status).toBe(404);
    expect((await raw(`/api/v3/exports/${id}/download`)).status).toBe(401);

    const other = await registerAndLogin(unique('exppeek'));
    expectError(await api('GET', `/api/v3/exports/${id}`, { token: other.token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/exports/${id}/download`, { token: other.token }), 404, 'not_found');
  });

  it('delivery=background forces a task; a task cannot be submitted for an export that is not waiting', async () => {
    const started = await api('GET', `/api/v3/documents/${docId}/export?format=html&delivery=background`, { token });
    expect(started.status).toBe(202);
    const ready = await poll(
      () => api('GET', `/api/v3/exports/${started.json.id}`, { token }),
      (r) => r.json.status !== 'queued',
      { what: 'html export', timeoutMs: 20_000 },
    );
    const html = new TextDecoder().decode((await raw(ready.json.download_url, token)).bytes);
    expect(html).toContain('<h2>Findings</h2>');
    const submitted = await api('POST', '/api/v3/background/tasks/submit', {
      token,
      body: { name: 'again', task_type: 'document_export', payload: { export_id: started.json.id } },
    });
    expectError(submitted, 400, 'validation_error');
  });
});
