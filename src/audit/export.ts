import type { DB } from '../db/client';
import { entriesAfter, entryView, maxEntryId, type AuditFilter, type EntryView } from './queries';

const PAGE = 500;

/** Cells a spreadsheet would evaluate as a formula (CSV injection) start with one of these. */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field per RFC 4180 (quoted when it holds a comma, quote or line break; quotes doubled),
 * after neutralising formula injection the way OWASP recommends: a leading apostrophe.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (fields: unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

export const CSV_COLUMNS = [
  'id',
  'at',
  'actor_user_id',
  'actor_api_key_id',
  'action',
  'outcome',
  'target_type',
  'target_id',
  'request_id',
  'ip',
  'user_agent',
  'details',
  'prev_hash',
  'hash',
  'sealed',
] as const satisfies readonly (keyof EntryView)[];

const csvRow = (e: EntryView) => csvLine(CSV_COLUMNS.map((k) => e[k]));

/**
 * The matching entries, oldest first, as a stream that reads D1 one page at a time as the client
 * consumes it (backpressure through `pull`), so an export of any size holds one page in memory.
 * It stops at the newest entry that existed when it started, so it has a definite end.
 */
export async function exportStream(db: DB, f: AuditFilter, format: 'json' | 'csv'): Promise<ReadableStream<Uint8Array>> {
  const upto = await maxEntryId(db);
  const encoder = new TextEncoder();
  let after = 0;
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(format === 'csv' ? csvLine([...CSV_COLUMNS]) : '['));
    },
    async pull(controller) {
      const rows = await entriesAfter(db, f, after, upto, PAGE);
      let chunk = '';
      for (const row of rows) {
        const e = entryView(row);
        chunk += format === 'csv' ? csvRow(e) : `${first ? '\n' : ',\n'}${JSON.stringify(e)}`;
        first = false;
      }
      if (rows.length < PAGE) {
        if (format === 'json') chunk += '\n]\n';
        controller.enqueue(encoder.encode(chunk));
        controller.close();
        return;
      }
      after = rows.at(-1)!.id;
      controller.enqueue(encoder.encode(chunk));
    },
  });
}
