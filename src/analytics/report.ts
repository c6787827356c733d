import type { DB } from '../db/client';
import type { Scope } from './catalogue';
import { series, summary, userActivity, workflowActivity } from './queries';
import { windowView, type Window } from './ranges';
import { csvField } from '../audit';

export const REPORT_DATASETS = ['summary', 'series', 'users', 'workflows'] as const;
export type ReportDataset = (typeof REPORT_DATASETS)[number];
export const REPORT_ROWS = 100;

type Row = Record<string, string | number | null>;

/** One flat table per dataset, so the CSV and the JSON carry the same rows and columns. */
async function rows(db: DB, scope: Scope, w: Window, dataset: ReportDataset): Promise<{ columns: string[]; rows: Row[] }> {
  if (dataset === 'summary') {
    const s = await summary(db, scope, w);
    return {
      columns: ['type', 'count', 'previous', 'change', 'change_pct'],
      rows: Object.entries(s.by_type).map(([type, t]) => ({ type, ...t })),
    };
  }
  if (dataset === 'series') {
    const s = await series(db, scope, w);
    const out: Row[] = [];
    for (const [type, points] of Object.entries(s.by_type))
      for (const p of points) out.push({ bucket_start: p.start, type, count: p.count });
    return { columns: ['bucket_start', 'type', 'count'], rows: out };
  }
  if (dataset === 'users') {
    const u = await userActivity(db, scope, w, REPORT_ROWS);
    return {
      columns: ['user_id', 'username', 'total', 'by_type'],
      rows: u.items.map((i) => ({ user_id: i.user_id, username: i.username, total: i.total, by_type: JSON.stringify(i.by_type) })),
    };
  }
  const list = await workflowActivity(db, scope, w, REPORT_ROWS);
  const columns = [
    'workflow_id',
    'name',
    'runs_started',
    'runs_completed',
    'runs_failed',
    'failure_rate',
    'documents_generated',
    'documents_edited',
    'tokens_in',
    'tokens_out',
  ];
  return { columns, rows: list.map((a) => Object.fromEntries(columns.map((c) => [c, a[c as keyof typeof a]])) as Row) };
}

/** Numbers as they are (a negative change is not a formula); text through the formula-safe `csvField`. */
export const csvCells = (cells: (string | number | null | undefined)[]) =>
  `${cells.map((v) => (typeof v === 'number' ? String(v) : csvField(v))).join(',')}\r\n`;

/**
 * A report as CSV (RFC 4180, formula-safe: see `csvField`) or JSON. Only text cells can carry
 * a formula; numbers (a negative change, say) are written as they are.
 */
export async function buildReport(db: DB, scope: Scope, w: Window, dataset: ReportDataset, format: 'csv' | 'json') {
  const table = await rows(db, scope, w, dataset);
  if (format === 'json')
    return { scope: scope.userId === null ? 'all' : 'mine', dataset, ...windowView(w), columns: table.columns, rows: table.rows };
  let out = csvCells(table.columns);
  for (const r of table.rows) out += csvCells(table.columns.map((c) => r[c]));
  return out;
}
