import { ApiError } from '../lib/errors';
import { DEFAULT_UPLOAD_MAX_BYTES } from '../lib/middleware';
import { type BinaryFormat, converter, type Extracted } from './converter';

/** The longest Markdown a document (or a knowledge source) may hold, in characters. */
export const MAX_CONTENT_CHARS = 500_000;

/** UPLOAD_MAX_BYTES, or its default when unset or not a positive number. */
export const uploadMaxBytes = (env: Env) => (Number(env.UPLOAD_MAX_BYTES) > 0 ? Number(env.UPLOAD_MAX_BYTES) : DEFAULT_UPLOAD_MAX_BYTES);

export type UploadFormat = BinaryFormat | 'markdown' | 'text';
export type Upload = { markdown: string; title: string | null; format: UploadFormat; filename: string; bytes: number; mediaType: string };

/**
 * What a file is, from its first bytes where the format has a signature (PDF, ZIP) and from its
 * declared type and name otherwise. A declared type is never trusted over the bytes: a ZIP that
 * calls itself text/plain is not read as text, a "PDF" without the PDF header is refused.
 */
export function detectFormat(bytes: Uint8Array, mediaType: string, filename: string): UploadFormat | null {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  const ext = /\.([a-z0-9]+)$/i.exec(filename)?.[1]?.toLowerCase() ?? '';
  const head = new TextDecoder().decode(bytes.slice(0, 5));
  if (head === '%PDF-') return 'pdf';
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
    return ext === 'docx' || type === 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' ? 'docx' : null;
  if (type === 'application/pdf' || ext === 'pdf' || ext === 'docx') return null;
  if (type === 'text/html' || ext === 'html' || ext === 'htm') return 'html';
  if (type === 'text/markdown' || ext === 'md' || ext === 'markdown') return 'markdown';
  if (type === 'text/plain' || ext === 'txt' || (type === '' && !ext) || type === 'application/octet-stream') return 'text';
  return null;
}

/**
 * An uploaded file as Markdown: text and Markdown as they are (UTF-8 only), PDF, DOCX and HTML
 * through the converter Worker. Refusals are the client's to fix (413 too large, 415 not a
 * format we read, 400 unreadable or empty); a converter that cannot be reached is a 503.
 */
export async function readUpload(env: Env, file: File): Promise<Upload> {
  const max = uploadMaxBytes(env);
  if (file.size > max) throw new ApiError('payload_too_large', `The file is ${file.size} bytes; uploads may be at most ${max} bytes`);
  if (file.size === 0) throw new ApiError('bad_request', 'The file is empty');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const filename = file.name || 'upload';
  const format = detectFormat(bytes, file.type, filename);
  if (!format)
    throw new ApiError(
      'unsupported_media_type',
      `Cannot read ${filename} (${file.type || 'no type'}): upload PDF, DOCX, HTML, Markdown or plain text`,
    );
  let markdown: string;
  let title: string | null = null;
  if (format === 'markdown' || format === 'text') {
    try {
      markdown = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      throw new ApiError('bad_request', `${filename} is not UTF-8 text`);
    }
  } else {
    let r: Extracted;
    try {
      r = await converter(env).toMarkdown(bytes, format);
    } catch (err) {
      throw new ApiError(
        'service_unavailable',
        `The converter could not read ${filename}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!r.ok) throw new ApiError('bad_request', r.error);
    markdown = r.markdown;
    title = r.title;
  }
  markdown = markdown.replace(/\r\n?/g, '\n').trim();
  if (!markdown)
    throw new ApiError(
      'bad_request',
      `No text could be read from ${filename}${format === 'pdf' ? ' (a scanned PDF has no text layer)' : ''}`,
    );
  if (markdown.length > MAX_CONTENT_CHARS)
    throw new ApiError(
      'payload_too_large',
      `${filename} holds ${markdown.length} characters of text; at most ${MAX_CONTENT_CHARS} are accepted`,
    );
  return { markdown, title, format, filename, bytes: file.size, mediaType: file.type };
}

/** A title for an upload: the one given, else the file's own, else its first heading, else its name. */
export function uploadTitle(u: Upload, given?: string): string {
  const heading = /^#{1,6}\s+(.+)$/m.exec(u.markdown)?.[1]?.trim();
  return (given ?? u.title ?? heading ?? u.filename.replace(/\.[a-z0-9]+$/i, '')).slice(0, 300) || 'Untitled';
}
