import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, count, createWorkflow, expectError, registerAndLogin, startRun, unique, waitForRun } from '../helpers';
import { makeDocx, makePdf, upload } from '../files';

let token: string;

beforeAll(async () => {
  token = (await registerAndLogin(unique('author'))).token;
});

/**
 * An independent word diff for the test: tokens are runs of letters/digits, runs of whitespace
 * and single other characters; the longest common subsequence by dynamic programming; hunks are
 * the maximal runs between matched tokens.
 */
function lcsHunks(a: string, b: string) {
  const tok = (s: string) => s.match(/[\p{L}\p{N}_]+|\s+|[^\p{L}\p{N}_\s]/gu) ?? [];
  const x = tok(a);
  const y = tok(b);
  const L = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--) L[i]![j] = x[i] === y[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
  const hunks: { from_offset: number; to_offset: number; deleted: string; inserted: string }[] = [];
  let i = 0;
  let j = 0;
  let ao = 0;
  let bo = 0;
  let open: (typeof hunks)[number] | null = null;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ao += x[i]!.length;
      bo += y[j]!.length;
      i++;
      j++;
      open = null;
      continue;
    }
    if (!open) {
      open = { from_offset: ao, to_offset: bo, deleted: '', inserted: '' };
      hunks.push(open);
    }
    if (j >= y.length || (i < x.length && L[i + 1]![j]! >= L[i]![j + 1]!)) {
      open.deleted += x[i];
      ao += x[i]!.length;
      i++;
    } else {
      open.inserted += y[j];
      bo += y[j]!.length;
      j++;
    }
  }
  return hunks;
}

describe('documents people bring', () => {
  it('creates a document from a title and Markdown, owned, versioned and searchable, with provenance "user"', async () => {
    const res = await api('POST', '/api/v3/documents', {
      token,
      body: {
        title: 'Pricing memo',
        content: '# Pricing\n\nWe raise the *basic* plan to 12 euros.',
        metadata: {
          provider: 'openai',
          citations: [{ paragraph: 0, marker: 1, chunk_id: 1, source_id: 1, document_id: null }],
          reviews: [
            { node_id: 'r', decision: 'approve', comment: null, actor_user_id: 1, timed_out: false, at: 0, document_version: null },
          ],
        },
      },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ kind: 'manual', version: 1, run_id: null, title: 'Pricing memo' });
    // Metadata a person sends cannot make their text look machine-written, cited or reviewed.
    expect(res.json.provenance).toEqual({
      origin: 'user',
      provider: null,
      model: null,
      language_model: false,
      edited: false,
      citations: [],
      reviews: [],
    });
    const edited = await api('PATCH', `/api/v3/documents/${res.json.id}`, {
      token,
      body: { content: '# Pricing\n\nWe raise the basic plan to 14 euros.' },
    });
    expect(edited.json).toMatchObject({ version: 2, provenance: { edited: true } });
    const found = await api('GET', '/api/v3/documents?q=euros', { token });
    expect(found.json.items.map((d: { id: number }) => d.id)).toContain(res.json.id);
  });

  it('refuses a bad body with a 4xx JSON error and stores nothing', async () => {
    const before = await count('documents');
    expectError(await api('POST', '/api/v3/documents', { token, body: { title: 'x' } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/documents', { token, body: { title: '', content: 'x' } }), 400, 'validation_error');
    expectError(await api('POST', '/api/v3/documents', { token }), 400, 'validation_error');
    expectError(await upload('/api/v3/documents', token, null, { title: 'no file' }), 400, 'validation_error');
    expectError(
      await upload('/api/v3/documents', token, new File([new Uint8Array([0, 1, 2, 3])], 'x.exe', { type: 'application/x-msdownload' })),
      415,
      'unsupported_media_type',
    );
    expectError(
      await upload('/api/v3/documents', token, new File(['not really'], 'fake.pdf', { type: 'application/pdf' })),
      415,
      'unsupported_media_type',
    );
    expectError(
      await upload('/api/v3/documents', token, new File([new Uint8Array([0xff, 0xfe, 0x00])], 'bad.txt', { type: 'text/plain' })),
      400,
      'bad_request',
    );
    const big = new File([new Uint8Array(Number(env.UPLOAD_MAX_BYTES) + 1).fill(97)], 'big.txt', { type: 'text/plain' });
    expectError(await upload('/api/v3/documents', token, big), 413, 'payload_too_large');
    expect(await count('documents')).toBe(before);
  });

  it('converts uploads to Markdown: Markdown as is, HTML, DOCX (headings, bold, links, lists) and PDF text', async () => {
    const md = await upload(
      '/api/v3/documents',
      token,
      new File(['# Garden log\n\nTomatoes *planted*.'], 'log.md', { type: 'text/markdown' }),
    );
    expect(md.status, JSON.stringify(md.json)).toBe(201);
    expect(md.json).toMatchObject({
      title: 'Garden log',
      content: '# Garden log\n\nTomatoes *planted*.',
      provenance: { origin: 'upload', language_model: false },
    });
    expect(md.json.metadata).toMatchObject({ source: 'upload', filename: 'log.md', format: 'markdown' });

    const html = await upload(
      '/api/v3/documents',
      token,
      new File(['<h2>Minutes</h2><p>Agreed: <em>ship</em> on Friday.</p>'], 'm.html', { type: 'text/html' }),
      {
        title: 'Meeting minutes',
      },
    );
    expect(html.json).toMatchObject({ title: 'Meeting minutes', content: '## Minutes\n\nAgreed: *ship* on Friday.' });

    const docx = await upload(
      '/api/v3/documents',
      token,
      await makeDocx('Harvest plan', ['Pick early.', 'Store cool.'], ['Beans', 'Squash']),
    );
    expect(docx.status, JSON.stringify(docx.json)).toBe(201);
    expect(docx.json.title).toBe('Harvest plan');
    expect(docx.json.content).toBe(
      '# Harvest plan\n\n**Pick early.** See [more](https://example.com/more)\n\nStore cool.\n\n- Beans\n- Squash',
    );

    const pdf = await upload(
      '/api/v3/documents',
      token,
      await makePdf('Soil report', ['Nitrogen levels were adequate.', 'Potassium was low in bed four.']),
    );
    expect(pdf.status, JSON.stringify(pdf.json)).toBe(201);
    expect(pdf.json.title).toBe('Soil report');
    expect(pdf.json.content).toContain('Nitrogen levels were adequate.');
    expect(pdf.json.content).toContain('Potassium was low in bed four.');
    expect((await api('GET', '/api/v3/documents?q=potassium', { token })).json.items.map((d: { id: number }) => d.id)).toEqual([
      pdf.json.id,
    ]);
  });

  it('documents from runs carry their provider and model, and the local provider is not a language model', async () => {
    const wf = await createWorkflow(token, { name: 'prov', nodes: [{ id: 'g', type: 'generate', prompt: 'Write about {{input.topic}}' }] });
    const run = await waitForRun(token, wf.id, (await startRun(token, wf.id, { topic: 'kites' })).id);
    const doc = await api('GET', `/api/v3/documents/${run.nodes[0]!.output!.document_id}`, { token });
    expect(doc.json.provenance).toEqual({
      origin: 'run',
      provider: 'local',
      model: doc.json.metadata.model,
      language_model: false,
      edited: false,
      citations: [],
      reviews: [],
    });
    const list = await api('GET', `/api/v3/documents?run_id=${run.id}`, { token });
    expect(list.json.items[0].provenance).toMatchObject({ origin: 'run', provider: 'local', language_model: false });
  });
});

describe('redlines', () => {
  it('diffs two versions word by word: hunks equal an independent LCS computation, and applying them gives the newer text', async () => {
    const v1 = 'The quick brown fox jumps over the lazy dog.\n\nIt was a sunny day in the park.';
    const v2 = 'The quick red fox leaps over the lazy dog today.\n\nIt was a sunny day in the park.';
    const v3 = 'The quick red fox leaps over the dog today.\n\nIt was a <rainy> day & the park was empty.';
    const doc = (await api('POST', '/api/v3/documents', { token, body: { title: 'Fox', content: v1 } })).json;
    await api('PATCH', `/api/v3/documents/${doc.id}`, { token, body: { content: v2 } });
    await api('PATCH', `/api/v3/documents/${doc.id}`, { token, body: { content: v3, title: 'Fox, revised' } });

    const latest = await api('GET', `/api/v3/documents/${doc.id}/diff`, { token });
    expect(latest.status, JSON.stringify(latest.json)).toBe(200);
    expect(latest.json).toMatchObject({
      from: { version: 2, title: 'Fox' },
      to: { version: 3, title: 'Fox, revised' },
      title_changed: true,
    });

    for (const [from, to, a, b] of [
      [1, 2, v1, v2],
      [2, 3, v2, v3],
      [1, 3, v1, v3],
    ] as const) {
      const d = await api('GET', `/api/v3/documents/${doc.id}/diff?from=${from}&to=${to}`, { token });
      expect(
        d.json.hunks.map((h: any) => ({ from_offset: h.from_offset, to_offset: h.to_offset, deleted: h.deleted, inserted: h.inserted })),
      ).toEqual(lcsHunks(a, b));
      let applied = a;
      for (const h of [...d.json.hunks].reverse())
        applied = applied.slice(0, h.from_offset) + h.inserted + applied.slice(h.from_offset + h.from_length);
      expect(applied).toBe(b);
      expect(
        d.json.changes
          .filter((c: any) => c.type !== 'insert')
          .map((c: any) => c.text)
          .join(''),
      ).toBe(a);
      expect(
        d.json.changes
          .filter((c: any) => c.type !== 'delete')
          .map((c: any) => c.text)
          .join(''),
      ).toBe(b);
      expect(d.json.stats.hunks).toBe(d.json.hunks.length);
    }

    const first = await api('GET', `/api/v3/documents/${doc.id}/diff?from=1&to=2`, { token });
    expect(first.json.hunks.map((h: any) => [h.deleted, h.inserted])).toEqual([
      ['brown', 'red'],
      ['jumps', 'leaps'],
      ['', ' today'],
    ]);
    expect(first.json.stats).toEqual({ hunks: 3, inserted_words: 3, deleted_words: 2 });
    expect(first.json.html).toBe(
      'The quick <del>brown</del><ins>red</ins> fox <del>jumps</del><ins>leaps</ins> over the lazy dog<ins> today</ins>.\n\nIt was a sunny day in the park.',
    );
    // Markup in the text is escaped inside and outside the changes.
    const second = await api('GET', `/api/v3/documents/${doc.id}/diff?from=2&to=3`, { token });
    expect(second.json.html).toContain('<ins>&lt;rainy&gt;</ins>');
    expect(second.json.html).toContain('&amp;');
    expect(second.json.html).not.toMatch(/<(?!\/?(ins|del)>)/);
  });

  it('answers 404 for a missing version or another user’s document, 400 for a bad version', async () => {
    const doc = (await api('POST', '/api/v3/documents', { token, body: { title: 'Solo', content: 'one' } })).json;
    expectError(await api('GET', `/api/v3/documents/${doc.id}/diff?from=1&to=5`, { token }), 404, 'not_found');
    expectError(await api('GET', `/api/v3/documents/${doc.id}/diff?from=zero`, { token }), 400, 'validation_error');
    const same = await api('GET', `/api/v3/documents/${doc.id}/diff`, { token });
    expect(same.json).toMatchObject({ from: { version: 1 }, to: { version: 1 }, hunks: [], html: 'one' });
    const other = await registerAndLogin(unique('peek'));
    expectError(await api('GET', `/api/v3/documents/${doc.id}/diff`, { token: other.token }), 404, 'not_found');
  });
});
