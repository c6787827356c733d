import { marked } from 'marked';
import filterXss, { type IFilterXSSOptions } from 'xss';
import { converter, type LayoutFormat } from '../documents';
import type { ExportFormat } from '../db/schema';
import { ApiError } from '../lib/errors';

export type Rendered = { body: Uint8Array | string; contentType: string; extension: string };

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/*
 * The sanitiser's allow-list: exactly the elements marked writes for CommonMark + GFM, with only
 * harmless attributes. js-xss drops `javascript:`, `vbscript:` and `data:` (but images) URLs from
 * href and src, escapes any element not listed (raw HTML in a document shows as text), and drops
 * <script> and <style> with their content.
 */
const SANITISER: IFilterXSSOptions = {
  whiteList: {
    a: ['href', 'title'],
    blockquote: [],
    br: [],
    code: ['class'],
    del: [],
    em: [],
    h1: [],
    h2: [],
    h3: [],
    h4: [],
    h5: [],
    h6: [],
    hr: [],
    img: ['src', 'alt', 'title'],
    input: ['type', 'checked', 'disabled'],
    li: [],
    ol: ['start'],
    p: [],
    pre: [],
    s: [],
    strong: [],
    table: [],
    tbody: [],
    td: ['align'],
    th: ['align'],
    thead: [],
    tr: [],
    ul: [],
  },
  stripIgnoreTagBody: ['script', 'style'],
};

/** Markdown rendered by marked (CommonMark + GFM), then sanitised: stored documents are user and model text. */
export function markdownToSafeHtml(markdown: string): string {
  return filterXss(marked.parse(markdown, { async: false, gfm: true }), SANITISER);
}

/** The page around the body: its own stylesheet only, so it reads well opened straight from disk. */
function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Document Workflow Chain">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.55 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}pre{background:#f4f4f4;padding:.75rem;overflow:auto}code{font-family:ui-monospace,monospace}blockquote{border-left:3px solid #ccc;margin-left:0;padding-left:1rem;color:#444}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * Markdown in the requested format. Markdown and HTML are made here; PDF and DOCX by the
 * converter Worker (src/documents/converter.ts), whose failure is a 503: the export can be asked
 * for again.
 */
export async function renderExport(env: Env, title: string, markdown: string, format: ExportFormat): Promise<Rendered> {
  switch (format) {
    case 'md':
      return { body: markdown, contentType: 'text/markdown; charset=utf-8', extension: 'md' };
    case 'html':
      return { body: htmlPage(title, markdownToSafeHtml(markdown)), contentType: 'text/html; charset=utf-8', extension: 'html' };
    case 'pdf':
    case 'docx':
      return { body: await layout(env, title, markdown, format), contentType: CONTENT_TYPES[format], extension: format };
  }
}

const CONTENT_TYPES = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;

async function layout(env: Env, title: string, markdown: string, format: LayoutFormat): Promise<Uint8Array> {
  try {
    return await converter(env).render(title, markdown, format);
  } catch (err) {
    throw new ApiError(
      'service_unavailable',
      `The ${format.toUpperCase()} could not be made: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** A file name from a title: letters, digits and dashes, never empty, never a path. */
export function fileName(title: string, extension: string): string {
  const stem =
    title
      .normalize('NFKD')
      .replace(/[^\p{L}\p{N}]+/gu, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'export';
  return `${stem}.${extension}`;
}
