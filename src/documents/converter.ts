import type { Stub } from '../lib/stubs';

/** Uploads the converter reads, by the format it detected. */
export const BINARY_FORMATS = ['pdf', 'docx', 'html'] as const;
export type BinaryFormat = (typeof BINARY_FORMATS)[number];
/** Page-layout formats the converter writes. */
export type LayoutFormat = 'pdf' | 'docx';

export type Extracted = { ok: true; markdown: string; title: string | null } | { ok: false; error: string };

/**
 * The converter Worker's RPC (converter/src/index.ts implements it): files to Markdown and
 * Markdown to PDF/DOCX. It is a Worker of its own, reached through the CONVERTER service binding,
 * because its libraries (pdf.js for reading PDFs, pdf-lib and docx for writing) weigh about
 * 0.85 MiB gzipped, which would take this Worker past its 1 MiB bundle budget. An unreadable file
 * is an `ok: false` answer rather than a thrown error: errors cross RPC as plain `Error`s, and the
 * caller must tell a bad upload (400) from a converter that is down (503).
 */
export interface ConverterRpc {
  toMarkdown(bytes: Uint8Array, format: BinaryFormat): Promise<Extracted>;
  render(title: string, markdown: string, format: LayoutFormat): Promise<Uint8Array>;
}

/**
 * The binding's RPC view. `wrangler types` types a service binding as a plain `Fetcher`, which
 * knows no methods; the interface above states them and the converter's class `implements` it,
 * as src/lib/stubs.ts does for Durable Objects.
 */
export const converter = (env: Env) => env.CONVERTER as unknown as Stub<ConverterRpc>;
