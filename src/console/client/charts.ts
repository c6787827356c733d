/**
 * /console/charts.js: small SVG charts drawn from API numbers. Each chart is a figure with a
 * caption, an SVG labelled for assistive technology (role="img" with <title> and <desc>), a
 * <title> tooltip on every mark, and the same numbers as a table under a disclosure.
 */
import { h, s } from './dom.js';

/** What every chart has: a key (data-chart), a caption, a description, and its numbers as a table. */
type ChartBase = { key: string; caption: string; description: string; headers: string[]; rows: (string | number)[][] };
export type Column = {
  key: string;
  label: string;
  short?: string;
  total: number;
  segments: { name: string; value: number; cls: string }[];
};
export type Bar = { key: string; label: string; value: number | null; display: string; cls: string };

let chartCounter = 0;

function figure(key: string, caption: string, description: string, svg: SVGSVGElement, table: HTMLTableElement): HTMLElement {
  const id = `chart-${++chartCounter}`;
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', `${id}-t ${id}-d`);
  svg.setAttribute('data-chart', key);
  svg.prepend(s('title', { id: `${id}-t` }, caption), s('desc', { id: `${id}-d` }, description));
  return h(
    'figure',
    { class: 'chart card' },
    h('figcaption', {}, caption),
    svg,
    h('details', {}, h('summary', {}, 'Show the numbers'), table),
  );
}

function dataTable(headers: string[], rows: (string | number)[][]): HTMLTableElement {
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', { class: 'num' }, c))),
        ),
      ),
    ),
  );
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Stacked columns, one per item. Every item gets data-key and data-total so the figures can be
 * read back and checked.
 */
export function columnChart({ key, caption, description, items, headers, rows }: ChartBase & { items: Column[] }): HTMLElement {
  const W = 320;
  const H = 180;
  const left = 26;
  const right = 14;
  const bottom = 26;
  const top = 16;
  const max = Math.max(1, ...items.map((i) => i.total));
  const plotH = H - bottom - top;
  const step = (W - left - right) / Math.max(1, items.length);
  const barW = Math.max(2, Math.min(36, step * 0.7));
  const labelEvery = Math.ceil(items.length / 5);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svg-chart' });
  for (const tick of [0, max / 2, max]) {
    const y = top + plotH - (tick / max) * plotH;
    svg.append(
      s('line', { x1: left, x2: W - right, y1: y, y2: y, class: 'grid' }),
      s('text', { x: left - 4, y: y + 3, class: 'axis', 'text-anchor': 'end' }, Number.isInteger(tick) ? tick : tick.toFixed(1)),
    );
  }
  items.forEach((item, i) => {
    const x = left + i * step + (step - barW) / 2;
    const g = s('g', { 'data-key': item.key, 'data-total': item.total });
    let y = top + plotH;
    for (const seg of item.segments) {
      if (!seg.value) continue;
      const hgt = (seg.value / max) * plotH;
      y -= hgt;
      g.append(
        s(
          'rect',
          { x, y, width: barW, height: hgt, class: seg.cls, 'data-segment': seg.name, 'data-value': seg.value },
          s('title', {}, `${item.label}: ${seg.value} ${seg.name}`),
        ),
      );
    }
    if (item.total) g.append(s('text', { x: x + barW / 2, y: y - 3, class: 'value', 'text-anchor': 'middle' }, item.total));
    if (i % labelEvery === 0)
      g.append(s('text', { x: x + barW / 2, y: H - bottom + 14, class: 'axis', 'text-anchor': 'middle' }, item.short || item.label));
    svg.append(g);
  });
  return figure(key, caption, description, svg, dataTable(headers, rows));
}

/** Horizontal bars; null values are drawn as "no data". */
export function barChart({ key, caption, description, bars, headers, rows }: ChartBase & { bars: Bar[] }): HTMLElement {
  const W = 320;
  const rowH = 24;
  const left = 104;
  const right = 62;
  const max = Math.max(1, ...bars.map((b) => b.value || 0));
  const svg = s('svg', { viewBox: `0 0 ${W} ${bars.length * rowH + 8}`, class: 'svg-chart' });
  bars.forEach((b, i) => {
    const y = 4 + i * rowH;
    const width = b.value ? Math.max(1, (b.value / max) * (W - left - right)) : 0;
    const g = s('g', { 'data-key': b.key, 'data-value': b.value === null ? '' : b.value });
    g.append(s('text', { x: left - 6, y: y + 16, class: 'axis', 'text-anchor': 'end' }, shorten(b.label, 16)));
    if (width)
      g.append(s('rect', { x: left, y: y + 3, width, height: rowH - 8, class: b.cls }, s('title', {}, `${b.label}: ${b.display}`)));
    g.append(s('text', { x: left + width + 5, y: y + 16, class: 'value' }, b.value === null ? 'no data' : b.display));
    svg.append(g);
  });
  return figure(key, caption, description, svg, dataTable(headers, rows));
}

/** A ring showing one share (0–1, or null when nothing finished). */
export function ringChart({
  key,
  caption,
  description,
  value,
  display,
  headers,
  rows,
}: ChartBase & { value: number | null; display: string }): HTMLElement {
  const r = 52;
  const c = 2 * Math.PI * r;
  const svg = s('svg', { viewBox: '0 0 160 140', class: 'svg-chart ring' });
  svg.append(s('circle', { cx: 80, cy: 70, r, class: 'ring-track' }));
  const g = s('g', { 'data-key': key, 'data-value': value === null ? '' : value });
  if (value !== null) {
    g.append(
      s('circle', { cx: 80, cy: 70, r, class: 'ring-value', 'stroke-dasharray': `${value * c} ${c}`, transform: 'rotate(-90 80 70)' }),
    );
  }
  g.append(s('text', { x: 80, y: 77, class: 'ring-label', 'text-anchor': 'middle' }, display));
  svg.append(g);
  return figure(key, caption, description, svg, dataTable(headers, rows));
}
