/**
 * The data_processing task: aggregates a small table (CSV text or an array of JSON objects) —
 * row and group counts, and per numeric field the count, sum, mean, min and max. Pure functions,
 * used both to validate a submission (so bad data answers 400) and to run the task.
 */
export type Cell = string | number | boolean | null;
export type Table = { columns: string[]; rows: Record<string, Cell>[] };

export class DataError extends Error {
  override name = 'DataError';
}

export const MAX_ROWS = 10_000;
const MAX_GROUPS = 1000;

/** RFC 4180 CSV: quoted fields may hold delimiters, newlines and doubled quotes. Header row first. */
export function parseCsv(text: string, delimiter = ','): Table {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(field);
    if (!(record.length === 1 && record[0]!.trim() === '')) records.push(record);
    record = [];
    field = '';
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i += 2;
      continue;
    }
    if (quoted && ch === '"') quoted = false;
    else if (quoted) field += ch;
    else if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else field += ch;
    i++;
  }
  if (quoted) throw new DataError('unterminated quoted field');
  if (field !== '' || record.length) endRecord();
  const [header, ...body] = records;
  if (!header) throw new DataError('the CSV is empty');
  const columns = header.map((c) => c.trim());
  if (columns.some((c) => c === '')) throw new DataError('every CSV column needs a name in the header row');
  if (new Set(columns).size !== columns.length) throw new DataError('CSV column names must be unique');
  if (body.length > MAX_ROWS) throw new DataError(`at most ${MAX_ROWS} rows`);
  const rows = body.map((r, n) => {
    if (r.length !== columns.length) throw new DataError(`row ${n + 2} has ${r.length} fields; the header has ${columns.length}`);
    return Object.fromEntries(columns.map((c, j) => [c, r[j]!] as const));
  });
  return { columns, rows };
}

export function tableFromJson(records: Record<string, Cell>[]): Table {
  if (records.length > MAX_ROWS) throw new DataError(`at most ${MAX_ROWS} rows`);
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return { columns, rows: records };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function numeric(v: Cell | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMBER.test(v.trim())) return Number(v.trim());
  return null;
}

const blank = (v: Cell | undefined) => v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
const round = (x: number) => Math.round(x * 1e9) / 1e9;

type FieldStats = { count: number; sum: number; mean: number | null; min: number | null; max: number | null };

function stats(values: number[]): FieldStats {
  if (!values.length) return { count: 0, sum: 0, mean: null, min: null, max: null };
  const sum = values.reduce((a, b) => a + b, 0);
  return { count: values.length, sum: round(sum), mean: round(sum / values.length), min: Math.min(...values), max: Math.max(...values) };
}

/** Columns every non-blank value of which is a number (and that have at least one). */
export function numericColumns(table: Table): string[] {
  return table.columns.filter((c) => {
    const present = table.rows.map((r) => r[c]).filter((v) => !blank(v));
    return present.length > 0 && present.every((v) => numeric(v) !== null);
  });
}

export function checkColumns(table: Table, groupBy: string[], fields: string[] | undefined): void {
  for (const c of [...groupBy, ...(fields ?? [])]) {
    if (!table.columns.includes(c)) throw new DataError(`no column named "${c}" (columns: ${table.columns.join(', ')})`);
  }
}

export function aggregate(table: Table, groupBy: string[], fields?: string[]) {
  checkColumns(table, groupBy, fields);
  const measured = fields ?? numericColumns(table).filter((c) => !groupBy.includes(c));
  const summarise = (rows: Record<string, Cell>[]) =>
    Object.fromEntries(measured.map((f) => [f, stats(rows.map((r) => numeric(r[f])).filter((n): n is number => n !== null))]));
  const groups = new Map<string, { key: Record<string, Cell>; rows: Record<string, Cell>[] }>();
  if (groupBy.length) {
    for (const row of table.rows) {
      const key = Object.fromEntries(groupBy.map((g) => [g, blank(row[g]) ? null : row[g]!] as const));
      const id = JSON.stringify(groupBy.map((g) => key[g]));
      const group = groups.get(id) ?? { key, rows: [] };
      group.rows.push(row);
      groups.set(id, group);
    }
  }
  const sorted = [...groups.values()].sort(
    (a, b) => b.rows.length - a.rows.length || JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)),
  );
  return {
    rows: table.rows.length,
    columns: table.columns,
    group_by: groupBy,
    fields: measured,
    totals: { count: table.rows.length, fields: summarise(table.rows) },
    groups: sorted.slice(0, MAX_GROUPS).map((g) => ({ key: g.key, count: g.rows.length, fields: summarise(g.rows) })),
    groups_total: groups.size,
  };
}
