import { readFileSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { DwcError, followRun, paginate, type RunEvent, Session } from '../sdk/core';
import { configPath, resolveConfig, writeConfig } from './config';
import { readFolder, writeFolder } from './folder';
import { type PlanItem, printPlan } from './print';

/**
 * `dwc`, the command line of Document Workflow Chain (docs/cli.md). Every command is a thin
 * layer over the HTTP API through the SDK's core; what a command prints on stdout is its result
 * (a run's generated text, a JSON answer), and progress goes to stderr, so results can be piped.
 */
const err = (line: string) => process.stderr.write(`${line}\n`);
const out = (line: string) => process.stdout.write(`${line}\n`);

function session(): Session {
  const config = resolveConfig();
  return new Session({
    baseUrl: config.url,
    credentials: config.credentials,
    // Refresh tokens rotate: the new pair must be stored, or the next command would present a spent one.
    onTokens: (t) => {
      if (!process.env.DWC_API_KEY)
        writeConfig({ url: config.url, credentials: { accessToken: t.accessToken, refreshToken: t.refreshToken } });
    },
  });
}

const positiveInt = (v: string) => {
  if (!/^\d{1,12}$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('expected a positive integer');
  return Number(v);
};

/** A workflow given by id or by exact name. */
async function workflowId(s: Session, ref: string): Promise<number> {
  if (/^\d+$/.test(ref)) return Number(ref);
  const q = encodeURIComponent(ref);
  for await (const w of paginate((cursor) =>
    s.json<{ items: { id: number; name: string }[]; next_cursor: string | null }>(
      'GET',
      `/api/v3/workflows?archived=all&limit=100&q=${q}${cursor ? `&cursor=${cursor}` : ''}`,
    ),
  ))
    if (w.name === ref) return w.id;
  throw new Error(`No workflow named "${ref}"`);
}

/** Prints a run's events: generated text on stdout as it streams, every other event on stderr. Returns the terminal event type. */
async function printEvents(events: AsyncIterable<RunEvent>): Promise<string | null> {
  let last: string | null = null;
  let midLine = false;
  for await (const e of events) {
    if (e.type === 'node.token') {
      process.stdout.write(String(e.data.text ?? ''));
      midLine = true;
      continue;
    }
    if (midLine) process.stdout.write('\n');
    midLine = false;
    const error = typeof e.data.error === 'string' ? `: ${e.data.error}` : '';
    err(`[${e.seq}] ${e.type}${e.node_id ? ` ${e.node_id}` : ''}${error}`);
    last = e.type;
  }
  if (midLine) process.stdout.write('\n');
  return last;
}

const program = new Command('dwc').description('Document Workflow Chain from the terminal').showHelpAfterError();

program
  .command('login')
  .description(`Store a deployment's URL and credentials in ${configPath()} (mode 0600)`)
  .requiredOption('--url <url>', 'the deployment, e.g. http://localhost:8787')
  .option('--api-key <key>', 'an API key (dwc_…)')
  .option('--token <access>', 'an access token')
  .option('--refresh-token <refresh>', 'the refresh token that goes with --token')
  .option('--username <name>', 'sign in with a password, read from $DWC_PASSWORD')
  .action(async (o: { url: string; apiKey?: string; token?: string; refreshToken?: string; username?: string }) => {
    const url = o.url.replace(/\/+$/, '');
    let credentials;
    if (o.apiKey) credentials = { apiKey: o.apiKey };
    else if (o.token) credentials = { accessToken: o.token, refreshToken: o.refreshToken };
    else if (o.username) {
      const password = process.env.DWC_PASSWORD;
      if (!password) throw new Error('Set DWC_PASSWORD to sign in with --username (a password is never a command-line argument)');
      const t = await new Session({ baseUrl: url }).json<{ access_token?: string; refresh_token?: string; mfa_required?: boolean }>(
        'POST',
        '/api/v3/auth/login',
        { username: o.username, password },
      );
      if (!t.access_token || !t.refresh_token)
        throw new Error('This account needs a second factor: create an API key in the console and use --api-key');
      credentials = { accessToken: t.access_token, refreshToken: t.refresh_token };
    } else throw new Error('Give --api-key, --token or --username');
    const s = new Session({ baseUrl: url, credentials });
    const me = await s.json<{ username: string }>('GET', '/api/v3/auth/me').catch((e: unknown) => {
      if (e instanceof DwcError && e.status === 404) return { username: '(unknown)' };
      throw e;
    });
    const file = writeConfig({ url, credentials });
    err(`Logged in to ${url} as ${me.username}; credentials in ${file}`);
  });

const workflows = program.command('workflows').description('Workflows as files');

workflows
  .command('pull')
  .description('Write your workflows (and the ones their subchains start) into a folder, one YAML file each')
  .argument('<dir>')
  .option('--tag <tag>', 'only workflows with this tag')
  .option('--ids <ids>', 'only these workflow ids, comma-separated')
  .action(async (dir: string, o: { tag?: string; ids?: string }) => {
    const q = new URLSearchParams({ ...(o.tag ? { tag: o.tag } : {}), ...(o.ids ? { ids: o.ids } : {}) });
    const bundle = await session().json<{ workflows: (Record<string, unknown> & { key: string })[] }>(
      'GET',
      `/api/v3/workflows/export?${q}`,
    );
    for (const file of writeFolder(dir, bundle)) err(`wrote ${file}`);
  });

workflows
  .command('push')
  .description('Import a folder of YAML workflows: shows what would change, applies it with --yes')
  .argument('<dir>')
  .option('--policy <policy>', 'when a name exists with another definition: new_version, skip or rename', 'new_version')
  .option('--yes', 'apply the changes shown')
  .action(async (dir: string, o: { policy: string; yes?: boolean }) => {
    const s = session();
    const bundle = readFolder(dir);
    type Result = { items: PlanItem[]; counts: Record<string, number> };
    const plan = await s.json<Result>('POST', '/api/v3/workflows/import', { bundle, policy: o.policy, dry_run: true });
    printPlan(plan.items, out);
    const changes = plan.items.filter((p) => p.action !== 'unchanged' && p.action !== 'skipped').length;
    if (!changes) {
      err('Nothing to change.');
      return;
    }
    if (!o.yes) {
      err(`${changes} workflow(s) would change. Run again with --yes to apply.`);
      return;
    }
    const done = await s.json<Result>('POST', '/api/v3/workflows/import', { bundle, policy: o.policy });
    err(
      `Applied: ${Object.entries(done.counts)
        .filter(([, n]) => n)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
  });

const runs = program.command('runs').description('Start and watch runs');

runs
  .command('start')
  .description('Start a run of a workflow (id or exact name)')
  .argument('<workflow>')
  .option('--input <file>', 'the run input, a JSON file ("-" for stdin)')
  .option('--idempotency-key <key>', 'repeat-safe: the same key starts no second run')
  .option('--follow', 'stream the run’s events and generated text until it ends; exit 1 if it fails')
  .action(async (ref: string, o: { input?: string; idempotencyKey?: string; follow?: boolean }) => {
    const s = session();
    const id = await workflowId(s, ref);
    const input = o.input ? (JSON.parse(readFileSync(o.input === '-' ? 0 : o.input, 'utf8')) as unknown) : {};
    const res = await s.fetch(`${s.baseUrl}/api/v3/workflows/${id}/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}) },
      body: JSON.stringify({ input }),
    });
    if (!res.ok) throw await DwcError.from(res);
    const run = (await res.json()) as { id: number; status: string; workflow_version: number };
    err(`run ${run.id} of workflow ${id} (version ${run.workflow_version}): ${run.status}`);
    if (!o.follow) {
      out(JSON.stringify({ id: run.id, workflow_id: id, status: run.status }));
      return;
    }
    const end = await printEvents(followRun(s, id, run.id));
    if (end !== 'run.succeeded') process.exitCode = 1;
  });

runs
  .command('logs')
  .description("A run's events in order (with --follow, until it ends)")
  .argument('<workflow>', 'id or exact name')
  .argument('<run>', 'run id', positiveInt)
  .option('--follow', 'keep streaming until the run ends; exit 1 if it fails')
  .action(async (ref: string, runId: number, o: { follow?: boolean }) => {
    const s = session();
    const id = await workflowId(s, ref);
    if (o.follow) {
      const end = await printEvents(followRun(s, id, runId));
      if (end !== 'run.succeeded') process.exitCode = 1;
      return;
    }
    async function* stored(): AsyncGenerator<RunEvent> {
      for (let after = 0; ; ) {
        const page = await s.json<{ items: RunEvent[]; last_seq: number }>(
          'GET',
          `/api/v3/workflows/${id}/runs/${runId}/events?after=${after}&limit=1000`,
        );
        yield* page.items;
        if (page.items.length < 1000) return;
        after = page.last_seq;
      }
    }
    await printEvents(stored());
  });

const documents = program.command('documents').description('Documents');

type ExportJob = { id: number; status: 'queued' | 'ready' | 'failed'; error: string | null; filename: string };

documents
  .command('export')
  .description('Write a document as Markdown, HTML, PDF or DOCX to a file (or stdout)')
  .argument('<document>', 'document id', positiveInt)
  .option('--format <format>', 'md, html, pdf or docx', 'md')
  .option('--out <file>', 'where to write it; "-" or none: stdout')
  .option('--timeout <seconds>', 'how long to wait for a background export', positiveInt, 120)
  .action(async (docId: number, o: { format: string; out?: string; timeout: number }) => {
    const s = session();
    const res = await s.fetch(`${s.baseUrl}/api/v3/documents/${docId}/export?format=${encodeURIComponent(o.format)}`);
    if (!res.ok) throw await DwcError.from(res);
    let file = res;
    // A large document is exported in the background (202): poll the job, then download its file.
    if (res.status === 202) {
      let job = (await res.json()) as ExportJob;
      const deadline = Date.now() + o.timeout * 1000;
      while (job.status === 'queued') {
        if (Date.now() > deadline)
          throw new Error(`export ${job.id} still queued after ${o.timeout}s; fetch it later from /api/v3/exports/${job.id}`);
        await new Promise((r) => setTimeout(r, 1000));
        job = await s.json<ExportJob>('GET', `/api/v3/exports/${job.id}`);
      }
      if (job.status === 'failed') throw new Error(`export ${job.id} failed: ${job.error ?? 'unknown error'}`);
      file = await s.fetch(`${s.baseUrl}/api/v3/exports/${job.id}/download`);
      if (!file.ok) throw await DwcError.from(file);
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (!o.out || o.out === '-') process.stdout.write(bytes);
    else {
      writeFileSync(o.out, bytes);
      err(`wrote ${o.out} (${bytes.length} bytes)`);
    }
  });

program.parseAsync().catch((e: unknown) => {
  if (e instanceof DwcError)
    err(`error: ${e.message} (${e.code}, HTTP ${e.status})${e.details ? `\n${JSON.stringify(e.details, null, 2)}` : ''}`);
  else err(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
});
