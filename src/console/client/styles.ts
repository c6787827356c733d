/** /console/app.css: mobile first (one column at 375px), wider layouts from 48rem. */
export default String.raw`
:root {
  --fg: #1f2933; --muted: #52606d; --bg: #f5f7fa; --card: #fff; --line: #d9e2ec;
  --accent: #1d4ed8; --accent-fg: #fff; --ok: #15803d; --fail: #b91c1c; --warn: #a16207; --info: #0369a1;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
h1:focus { outline: none; }
h2 { font-size: 1.15rem; margin: 1.25rem 0 .5rem; }
h3 { font-size: 1rem; margin: 0; overflow-wrap: anywhere; }
code, .mono { font-family: var(--mono); font-size: .9em; }

.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1rem; padding: .5rem 1rem; background: #102a43; color: #fff; }
.top a { color: #fff; }
.brand { font-weight: 700; text-decoration: none; margin-right: auto; }
.top nav { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem .75rem; }
.top nav a { padding: .5rem .25rem; }
.top nav a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
.top :focus-visible { outline-color: #fff; }
.who { color: #d9e2ec; font-size: .9rem; }
.top button.quiet { color: #fff; border-color: #829ab1; background: transparent; }

main { display: block; max-width: 72rem; margin: 0 auto; padding: 1rem; }
main:focus { outline: none; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; min-width: 0; }
.stack > * + * { margin-top: .75rem; }
.card > h2:first-child, .stack > h2:first-child { margin-top: 0; }
.grid-2 { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); align-items: start; }
.grid-2 > section > h2:first-child { margin-top: 0; }
.meta, .hint { color: var(--muted); font-size: .875rem; }
.hint { display: block; margin-top: .25rem; }
.notice { background: #e0f2fe; border-left: 4px solid var(--info); padding: .5rem .75rem; }
.alert { background: #fef2f2; border-left: 4px solid var(--fail); padding: .5rem .75rem; margin-bottom: 1rem; }
.alert p, .alert ul { margin: .25rem 0; }
.error-text { color: var(--fail); margin: .25rem 0; overflow-wrap: anywhere; }
.empty { color: var(--muted); }
.crumbs { font-size: .9rem; }

.field label { display: block; font-weight: 600; margin-bottom: .25rem; }
input, textarea, select { font: inherit; width: 100%; min-height: 44px; padding: .5rem; border: 1px solid #9fb3c8; border-radius: 6px; background: #fff; color: inherit; }
textarea { resize: vertical; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0; padding: .5rem .75rem; }
legend { font-weight: 600; padding: 0 .25rem; }
.choice { display: grid; grid-template-columns: auto 1fr; gap: 0 .5rem; align-items: center; padding: .25rem 0; }
.choice input { width: 1.25rem; min-height: 1.25rem; margin: 0; }
.choice .hint { grid-column: 2; margin: 0; }
.choice label { font-weight: 600; }

button, .button { font: inherit; display: inline-flex; align-items: center; justify-content: center; min-height: 44px; padding: .5rem 1rem;
  border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; text-decoration: none; }
button.quiet, .button.quiet { background: var(--card); color: var(--accent); }
button.danger { background: var(--card); color: var(--fail); border-color: var(--fail); }
button:disabled { opacity: .45; cursor: not-allowed; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .75rem 0; }
.more { margin-top: .75rem; }
details summary { cursor: pointer; min-height: 32px; }

.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; background: #e4e7eb; color: #323f4b; }
.badge[data-status="succeeded"] { background: #dcfce7; color: #14532d; }
.badge[data-status="failed"], .badge[data-status="cancelled"] { background: #fee2e2; color: #7f1d1d; }
.badge[data-status="running"], .badge[data-status="queued"] { background: #dbeafe; color: #1e3a8a; }
.badge[data-status="waiting"], .badge[data-status="paused"], .badge[data-status="retry_wait"] { background: #fef3c7; color: #713f12; }

.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
.cards .card > * + * { margin: .35rem 0 0; }
.links { display: flex; gap: 1rem; }
.links a { padding: .25rem 0; }
.excerpt { overflow-wrap: anywhere; }
ol.plain { padding-left: 1.25rem; margin: 0; }
.type { color: var(--muted); font-size: .85rem; }

.table-wrap { overflow-x: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }

.nodes { display: grid; gap: .75rem; grid-template-columns: minmax(0, 1fr); }
.node header { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .25rem .5rem; align-items: center; }
.node[data-status="running"] { border-color: #93c5fd; box-shadow: 0 0 0 2px #dbeafe; }
.node[data-status="waiting"] { border-color: #fcd34d; }
.node .meta, .node .doc { margin: .35rem 0; }
.output { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 16rem; overflow: auto; margin: .5rem 0 0; padding: .5rem;
  background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; font: .85rem/1.45 var(--mono); }
.approval { border-top: 1px dashed var(--line); margin-top: .5rem; padding-top: .5rem; }
.approval .message { font-weight: 600; margin: 0 0 .5rem; }
.timeline { list-style: none; padding: 0; margin: 0; font-size: .85rem; border-left: 2px solid var(--line); }
.timeline li { padding: .2rem 0 .2rem .75rem; overflow-wrap: anywhere; }
.timeline time { color: var(--muted); font-variant-numeric: tabular-nums; }
.timeline .ev { font-weight: 600; }
.timeline li[data-type$="failed"], .timeline li[data-type$="rejected"] .ev { color: var(--fail); }
.timeline li[data-type$="succeeded"] .ev { color: var(--ok); }
.stream-state { font-weight: 600; }

.filters { display: grid; gap: .5rem 1rem; grid-template-columns: minmax(0, 1fr); align-items: end; margin-bottom: 1rem; }
.filters .actions { margin: 0; }
.doc-layout { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); align-items: start; }
.doc-content { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.6; }
.versions { padding-left: 1.5rem; }
.versions a[aria-current="page"] { font-weight: 700; }
dl.facts { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: .5rem; margin: 0 0 1rem; }
dl.stats div { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; }
dl.stats dt { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
dl.stats dd { margin: 0; font-size: 1.25rem; font-weight: 700; font-variant-numeric: tabular-nums; }

.charts { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
.chart { margin: 0; }
.chart figcaption { font-weight: 700; margin-bottom: .5rem; }
.svg-chart { display: block; width: 100%; max-width: 36rem; height: auto; }
.svg-chart.ring { max-width: 14rem; margin: 0 auto; }
.svg-chart text { font: 12px system-ui, sans-serif; fill: var(--fg); }
.svg-chart .axis { fill: var(--muted); font-size: 11px; }
.svg-chart .value { font-weight: 600; }
.svg-chart .grid { stroke: var(--line); stroke-width: 1; }
.bar-ok { fill: var(--ok); } .bar-fail { fill: var(--fail); } .bar-other { fill: #9aa5b1; }
.bar-p50 { fill: #60a5fa; } .bar-p95 { fill: #1e40af; } .bar-in { fill: #0d9488; } .bar-out { fill: #7c3aed; }
.ring-track { fill: none; stroke: #e4e7eb; stroke-width: 16; }
.ring-value { fill: none; stroke: var(--ok); stroke-width: 16; }
.svg-chart .ring-label { font-size: 22px; font-weight: 700; }
.chart table { margin-top: .5rem; }

.toast { position: fixed; left: 50%; bottom: 1rem; transform: translateX(-50%); margin: 0; max-width: calc(100% - 2rem);
  background: #102a43; color: #fff; padding: .5rem 1rem; border-radius: 6px; }
.toast:empty { display: none; }

@media (min-width: 48rem) {
  main { padding: 1.5rem 2rem; }
  .grid-2 { grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); }
  .nodes { grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); }
  .filters { grid-template-columns: minmax(0, 2fr) minmax(0, 1fr) auto; }
  .filters.single { grid-template-columns: minmax(0, 20rem); }
  .doc-layout { grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); }
  .charts { grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); }
}
@media (prefers-reduced-motion: no-preference) {
  .node { transition: border-color .2s, box-shadow .2s; }
}
`;
