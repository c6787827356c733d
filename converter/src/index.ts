import { WorkerEntrypoint } from 'cloudflare:workers';
import type { BinaryFormat, ConverterRpc, Extracted, LayoutFormat } from '../../src/documents/converter';
import { markdownBlocks } from './blocks';
import { renderDocx } from './docx';
import { docxToMarkdown, ExtractError, htmlToMarkdown, pdfToMarkdown } from './extract';
import { renderPdf } from './pdf';

/**
 * The converter Worker: files to Markdown and Markdown to PDF/DOCX, called over RPC by the main
 * Worker's CONVERTER service binding (src/documents/converter.ts says why it is a Worker of its
 * own). It holds no state and no bindings; it is not reachable from the internet
 * (`workers_dev = false`, no routes), only through the binding. Each call runs in its own
 * invocation with its own CPU budget, so a large PDF does not spend the API request's.
 */
export default class Converter extends WorkerEntrypoint implements ConverterRpc {
  override async fetch(): Promise<Response> {
    return new Response('Not found: this Worker is reached through its service binding only', { status: 404 });
  }

  async toMarkdown(bytes: Uint8Array, format: BinaryFormat): Promise<Extracted> {
    try {
      const r =
        format === 'pdf'
          ? await pdfToMarkdown(bytes)
          : format === 'docx'
            ? docxToMarkdown(bytes)
            : await htmlToMarkdown(new TextDecoder().decode(bytes));
      return { ok: true, markdown: r.markdown, title: r.title };
    } catch (err) {
      if (err instanceof ExtractError) return { ok: false, error: err.message };
      throw err;
    }
  }

  async render(title: string, markdown: string, format: LayoutFormat): Promise<Uint8Array> {
    const blocks = markdownBlocks(markdown);
    return format === 'pdf' ? renderPdf(title, blocks) : renderDocx(title, blocks);
  }
}
