import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/*
 * The documentation's curl examples, run as written (issue 18). Every ```bash block of README.md
 * and docs/ that talks to http://localhost:8787 is an example; a page's blocks run in order in one
 * bash session, the pages one after another against one fresh local Worker, README.md first (its
 * `$TOKEN`, the first administrator's, is what every other page starts from). A block needing a
 * real third-party secret is preceded by `<!-- docs-example: skip <reason> -->` and left out.
 *
 * Inside a session `curl` is a function that fails the page on any HTTP status of 400 or more,
 * unless the command is followed by a comment naming the status it shows, `# → 409 …`, and then
 * any other status fails it.
 */
export const ROOT = path.resolve(import.meta.dirname, '../..');
export const ORIGIN_IN_DOCS = 'http://localhost:8787';

export type Block = { file: string; line: number; text: string; skip?: string };

/** The example blocks of one Markdown file, in order. */
export async function blocksOf(file: string): Promise<Block[]> {
  const lines = (await readFile(path.join(ROOT, file), 'utf8')).split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(bash|sh)\s*$/.test(lines[i]!)) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const text = body.join('\n');
    if (!text.includes(ORIGIN_IN_DOCS)) continue;
    const before = lines.slice(Math.max(0, start - 2), start).join('\n');
    const skip = /<!-- docs-example: skip (.+?) -->/.exec(before)?.[1];
    blocks.push({ file, line: start + 1, text, ...(skip ? { skip } : {}) });
  }
  return blocks;
}

/** README.md, then the pages in the order docs/README.md links them, then any other page. */
export async function pages(): Promise<string[]> {
  const index = await readFile(path.join(ROOT, 'docs/README.md'), 'utf8');
  const linked = [...index.matchAll(/\]\(([^)#]+\.md)/g)].map((m) => path.posix.join('docs', m[1]!)).filter((p) => !p.startsWith('../'));
  const all = (await readdir(path.join(ROOT, 'docs'), { recursive: true }))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.posix.join('docs', f.split(path.sep).join('/')))
    .sort();
  const ordered = [...new Set(linked.map((p) => path.posix.normalize(p)).filter((p) => all.includes(p)))];
  return ['README.md', ...ordered, ...all.filter((p) => !ordered.includes(p))];
}

const PRELUDE = String.raw`set -euo pipefail
__docs_headers=$(mktemp)
curl() {
  local expect="${'$'}{DOCS_EXPECT:-}" status
  command curl -sS -D "$__docs_headers" "$@" || { echo "docs example: curl failed: curl $*" >&2; return 1; }
  status=$(awk '/^HTTP\//{s=$2} END{print s}' "$__docs_headers" | tr -d '\r')
  if [ -n "$expect" ]; then
    [ "$status" = "$expect" ] || { echo "docs example: expected HTTP $expect, got $status: curl $*" >&2; return 1; }
  elif [ "${'$'}{status:-0}" -ge 400 ]; then
    echo "docs example: HTTP $status: curl $*" >&2; return 1
  fi
}
`;

/**
 * One page's blocks as a bash script: a command followed by `# → <status>` (on its own last line
 * or the next comment line) runs with DOCS_EXPECT set to that status.
 */
export function script(blocks: Block[]): string {
  const out: string[] = [];
  for (const block of blocks) {
    if (block.skip) continue;
    const lines = block.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const first = i;
      while (i < lines.length - 1 && lines[i]!.endsWith('\\')) i++;
      const last = i;
      const expected =
        /#\s*→\s*(\d{3})\b/.exec(lines[last]!.replace(/^[^#]*?(?=#\s*→)/, ''))?.[1] ??
        /^\s*#\s*→\s*(\d{3})\b/.exec(lines[last + 1] ?? '')?.[1];
      if (expected && /(^|\$\(|\|\s*|&&\s*)curl\s/.test(lines[first]!)) {
        lines[first] = lines[first]!.replace(/(^|\$\(|\|\s*|&&\s*)curl\s/, `$1DOCS_EXPECT=${expected} curl `);
      }
    }
    out.push(`# ${block.file}:${block.line}`, lines.join('\n'));
  }
  return `${PRELUDE}\n${out.join('\n')}\n`;
}

export type Outcome = { code: number; stdout: string; stderr: string };

/** Runs a script with bash in `cwd`, the docs' origin replaced by the test Worker's. */
export function runScript(source: string, origin: string, cwd: string, env: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', source.replaceAll(ORIGIN_IN_DOCS, origin)],
      { cwd, timeout: 180_000, maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH, HOME: cwd, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
