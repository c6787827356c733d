import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { ProfileSummary } from './profile';
import { spreadPct, type Figure } from './stats';
import type { ScenarioResult } from './types';

export type Environment = Record<string, string | number>;
export type Report = {
  startedAt: string;
  durationMs: number;
  reps: number;
  quick: boolean;
  environment: Environment;
  scenarios: ScenarioResult[];
  notes: string[];
  exitCode: number;
};

export const BEGIN = '<!-- bench:results:begin (written by `npm run bench`; edit outside these markers) -->';
export const END = '<!-- bench:results:end -->';

const num = (n: number) =>
  !Number.isFinite(n)
    ? String(n)
    : Math.abs(n) >= 100
      ? n.toFixed(0)
      : Math.abs(n) >= 10
        ? n.toFixed(1)
        : Math.abs(n) >= 1
          ? n.toFixed(2)
          : n.toFixed(3);
const unit = (u: string) => (u === '×' ? '×' : ` ${u}`);

/** `median (min–max) unit`: the median over repetitions and its spread. */
export function fmt(f: Figure | null | undefined): string {
  if (!f) return '—';
  if (f.samples.length === 1) return `${num(f.median)}${unit(f.unit)}`;
  // A median of 0 has no relative spread: show the range alone.
  return `${num(f.median)}${unit(f.unit)} (${num(f.min)}–${num(f.max)}${f.median === 0 ? '' : `, ±${spreadPct(f).toFixed(0)}%`})`;
}

const verdict = (met: boolean | null) => (met === true ? '**met**' : met === false ? '**not met**' : 'not judged');

function statusCell(s: ScenarioResult): string {
  if (s.status === 'not_built') return 'not built';
  if (s.status === 'error') return '**error**';
  return (s.targets ?? []).map((t) => verdict(t.met)).join(', ') || 'no target';
}

function headline(s: ScenarioResult): { ours: string; peer: string; ratio: string } {
  const row = s.rows?.[0];
  if (s.status !== 'ok' || !row) return { ours: '—', peer: '—', ratio: '—' };
  return { ours: `${row.metric}: ${fmt(row.ours)}`, peer: fmt(row.peer), ratio: fmt(row.ratio) };
}

function profileTable(p: ProfileSummary): string[] {
  const lines = [
    `Profile of \`${p.target}\`: ${p.samples} samples over ${(p.wallMs / 1000).toFixed(1)} s, ${p.idlePct.toFixed(0)}% idle, GC ${p.gcPct.toFixed(1)}% of busy samples.`,
    '',
    '| share of busy samples | where |',
    '|---:|---|',
    ...p.bySource.slice(0, 8).map((r) => `| ${r.pct.toFixed(1)}% | ${r.source || '(native)'} |`),
    '',
    '| self | function | module |',
    '|---:|---|---|',
    ...p.topFunctions.slice(0, 8).map((f) => `| ${f.pct.toFixed(1)}% | \`${f.fn}\` | ${f.source || '(native)'} |`),
    '',
  ];
  if (p.inclusive?.length) {
    lines.push(
      '| inclusive | function (with what it calls) | module |',
      '|---:|---|---|',
      ...p.inclusive.slice(0, 12).map((f) => `| ${f.pct.toFixed(1)}% | \`${f.fn}\` | ${f.source} |`),
      '',
    );
  }
  return lines;
}

export function markdown(r: Report): string {
  const out: string[] = [];
  out.push(
    `Run of ${r.startedAt}: ${r.reps} repetitions${r.quick ? ' (quick mode: short loads, noisier)' : ''}, ${(r.durationMs / 1000).toFixed(0)} s in all, exit code ${r.exitCode}.`,
    '',
  );
  out.push('| machine and versions | |', '|---|---|', ...Object.entries(r.environment).map(([k, v]) => `| ${k} | ${v} |`), '');
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length) out.push('');
  out.push('| # | scenario | ours (median, spread) | peer | ours ÷ peer | target | result |', '|---|---|---|---|---|---|---|');
  for (const s of r.scenarios) {
    const h = headline(s);
    out.push(`| ${s.id} | ${s.title} | ${h.ours} | ${h.peer} | ${h.ratio} | ${s.target} | ${statusCell(s)} |`);
  }
  out.push('');
  for (const s of r.scenarios) {
    out.push(`### ${s.id}. ${s.title}`, '');
    if (s.status === 'not_built') {
      out.push(`Not built: ${s.reason}`, '');
      continue;
    }
    if (s.status === 'error') {
      out.push('Error:', '', '```', (s.reason ?? '').slice(0, 1500), '```', '');
      continue;
    }
    out.push(`Peer: ${s.peer}. ${(s.durationMs / 1000).toFixed(0)} s.`, '');
    out.push('| metric | ours | peer | ours ÷ peer |', '|---|---|---|---|');
    for (const row of s.rows ?? [])
      out.push(`| ${row.metric}${row.note ? ` (${row.note})` : ''} | ${fmt(row.ours)} | ${fmt(row.peer)} | ${fmt(row.ratio)} |`);
    out.push('');
    for (const t of s.targets ?? []) out.push(`- Target "${t.text}": ${verdict(t.met)} — ${t.detail}`);
    if (s.lost) out.push(`- **Lost or doubled: ${s.lost}**`);
    for (const n of s.notes ?? []) out.push(`- ${n}`);
    out.push('');
    if (s.memory?.length) {
      out.push('| workerd RSS | idle | loaded | peak under load |', '|---|---:|---:|---:|');
      const mib = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} MiB`);
      for (const m of s.memory)
        out.push(`| ${m.worker}${m.note ? ` (${m.note})` : ''} | ${mib(m.idleMiB)} | ${mib(m.loadedMiB)} | ${mib(m.peakMiB)} |`);
      out.push('');
    }
    for (const p of s.profiles ?? []) out.push(...profileTable(p));
  }
  return out.join('\n');
}

/** Replaces the generated part of BENCHMARKS.md, keeping the hand-written text around it. */
export function writeBenchmarksMd(path: string, generated: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const a = current.indexOf(BEGIN);
  const b = current.indexOf(END);
  const next =
    a >= 0 && b > a
      ? `${current.slice(0, a + BEGIN.length)}\n${generated}\n${current.slice(b)}`
      : `${current.trimEnd()}\n\n${BEGIN}\n${generated}\n${END}\n`;
  writeFileSync(path, next);
}

/** The summary table for the terminal. */
export function consoleTable(r: Report): string {
  const rows = r.scenarios.map((s) => {
    const h = headline(s);
    return [String(s.id), s.title, h.ours, h.peer, h.ratio, statusCell(s).replace(/\*/g, '') + (s.lost ? ` (LOST ${s.lost})` : '')];
  });
  const head = ['#', 'scenario', 'ours', 'peer', 'ours÷peer', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}
