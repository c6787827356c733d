import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiGet,
  expectLabelledControls,
  expectNoHorizontalScroll,
  launchBrowser,
  openConsole,
  PHONE,
  registerThroughUi,
  screenshot,
  sessionToken,
} from './browser.js';
import { isMarkedDocument, markDocument, recordedNodeChanges, recordNodeChanges } from './in-page.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** For one node: the statuses it went through, and the text added while each was current. */
async function nodeHistory(page: Page, node: string) {
  const changes = (await page.evaluate(recordedNodeChanges)).filter((c) => c.node === node);
  const final = (await page.locator(`.node[data-node="${node}"]`).getAttribute('data-status'))!;
  // A status record holds the value it replaced: the value it set is the next one's old value.
  const olds = changes.flatMap((c) => (c.kind === 'status' ? [c.old] : []));
  const statuses = olds.map((_, i) => (i + 1 < olds.length ? olds[i + 1]! : final));
  const textWhile: Record<string, string> = {};
  let seen = 0;
  for (const c of changes) {
    if (c.kind === 'status') seen++;
    else if (seen > 0) textWhile[statuses[seen - 1]!] = (textWhile[statuses[seen - 1]!] ?? '') + c.added;
  }
  return { statuses, textWhile };
}

async function createFromTemplate(page: Page, template: string) {
  await page.getByRole('radio', { name: template }).check();
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Start a run' }).isVisible()).toBe(true);
  return Number(page.url().match(/#\/workflows\/(\d+)/)![1]);
}

async function startRun(page: Page, topic: string) {
  await page.getByLabel('Input: topic').fill(topic);
  await page.evaluate(recordNodeChanges);
  await page.getByRole('button', { name: 'Start run' }).click();
  await expect.poll(() => page.url()).toMatch(/#\/workflows\/\d+\/runs\/\d+$/);
  return Number(page.url().match(/runs\/(\d+)$/)![1]);
}

const runStatus = (page: Page) => page.locator('#run-status').textContent();
const nodeStatus = (page: Page, node: string) => page.locator(`.node[data-node="${node}"]`).getAttribute('data-status');

describe('console: runs', () => {
  it('creates the blog workflow from its template and watches a run write its three documents', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const workflowId = await createFromTemplate(page, 'Blog post: outline → draft → title');
      const runId = await startRun(page, 'solar power for small farms');

      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      for (const node of ['outline', 'draft', 'headline']) {
        const { statuses, textWhile } = await nodeHistory(page, node);
        expect(statuses, node).toEqual(expect.arrayContaining(['running', 'succeeded']));
        expect(statuses.indexOf('running'), node).toBeLessThan(statuses.lastIndexOf('succeeded'));
        // Streamed chunks were on screen while the node was still running.
        expect(textWhile.running?.length ?? 0, node).toBeGreaterThan(0);
      }
      expect(await page.locator('.node[data-node="outline"] .output').textContent()).toMatch(/solar/i);

      // The page shows what the API recorded: statuses, outputs and a link to each document.
      const token = await sessionToken(page);
      const run = await apiGet(token, `/api/v3/workflows/${workflowId}/runs/${runId}`);
      for (const n of run.nodes) {
        expect(await nodeStatus(page, n.id)).toBe(n.status);
        expect(await page.locator(`.node[data-node="${n.id}"] .output`).textContent()).toBe(n.output.text);
        expect(await page.locator(`.node[data-node="${n.id}"] .doc a`).getAttribute('href')).toBe(`#/documents/${n.output.document_id}`);
      }
      const timeline = page.locator('.timeline li');
      expect(await timeline.filter({ hasText: 'document.created' }).count()).toBe(3);
      expect(await timeline.filter({ hasText: 'run.succeeded' }).count()).toBe(1);
      await expect.poll(() => page.locator('.stream-state').textContent()).toBe('ended');
      await expectLabelledControls(page);
      await screenshot(page, 'run-desktop');

      await page.getByRole('link', { name: 'Documents of this run' }).click();
      await expect.poll(() => page.locator('.cards li.card').count()).toBe(3);
      const docs = await apiGet(token, `/api/v3/documents?run_id=${runId}`);
      expect(await page.locator('.cards li.card h3').allTextContents()).toEqual(docs.items.map((d: { title: string }) => d.title));
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('forks a finished run from a node with an edited prompt; the fork shows where it came from and what it reused', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const workflowId = await createFromTemplate(page, 'Blog post: outline → draft → title');
      const runId = await startRun(page, 'rain gardens');
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');

      await page.locator('.node[data-node="draft"] .fork summary').click();
      const prompt = page.getByLabel('Prompt of draft in the fork');
      await prompt.fill(`${await prompt.inputValue()}\nKeep it under 100 words.`);
      await page.getByRole('button', { name: 'Fork the run from draft' }).click();
      await expect.poll(() => page.url()).not.toMatch(new RegExp(`runs/${runId}$`));
      const forkId = Number(page.url().match(/runs\/(\d+)$/)![1]);
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      expect(await page.locator('.lineage').textContent()).toBe(`Forked from run ${runId} at node draft. `);
      await expect.poll(() => page.locator('.node[data-node="outline"] .meta').textContent()).toContain(`reused from run ${runId}`);
      expect(await page.locator('.node[data-node="draft"] .meta').textContent()).not.toContain('reused');

      const token = await sessionToken(page);
      const fork = await apiGet(token, `/api/v3/workflows/${workflowId}/runs/${forkId}`);
      expect(fork.forked_from).toEqual({ run_id: runId, node_id: 'draft' });
      expect(fork.nodes.map((n: { id: string; reused_from_run_id: number | null }) => [n.id, n.reused_from_run_id])).toEqual([
        ['outline', runId],
        ['draft', null],
        ['headline', null],
      ]);
      // The origin links to its fork.
      await page.getByRole('link', { name: `run ${runId}` }).click();
      await expect.poll(() => page.locator('.lineage').textContent()).toBe(`Forks: run ${forkId}.`);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('waits at an approval node, approves it from the page, and the rest of the chain fills in live (phone)', async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      await registerThroughUi(page);
      const workflowId = await createFromTemplate(page, 'Review with approval');
      const runId = await startRun(page, 'community gardens');

      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('waiting');
      expect(await nodeStatus(page, 'draft')).toBe('succeeded');
      expect(await nodeStatus(page, 'review')).toBe('waiting');
      expect(await nodeStatus(page, 'summary')).toBe('pending');
      expect(await page.locator('.stream-state').textContent()).toBe('live');
      await expectNoHorizontalScroll(page);
      await expectLabelledControls(page);

      // Pause and resume while it waits, from the run controls.
      await page.getByRole('button', { name: `Pause run ${runId}` }).click();
      await expect.poll(() => runStatus(page)).toBe('paused');
      await page.getByRole('button', { name: `Resume run ${runId}` }).click();
      await expect.poll(() => runStatus(page)).toBe('waiting');

      await page.evaluate(markDocument);
      await page.getByLabel('Comment on review (optional)').fill('Looks good');
      await page.getByRole('button', { name: 'Approve review' }).click();

      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      for (const node of ['summary', 'headline']) {
        const { statuses, textWhile } = await nodeHistory(page, node);
        expect(statuses, node).toEqual(['pending', 'running', 'succeeded']);
        expect(textWhile.running?.length ?? 0, node).toBeGreaterThan(0);
      }
      // Filled in by the open stream: the page was never reloaded.
      expect(await page.evaluate(isMarkedDocument)).toBe(true);
      expect(await page.locator('.timeline li[data-type="node.approved"]').textContent()).toContain('Looks good');
      expect(await page.getByRole('button', { name: 'Approve review' }).isVisible()).toBe(false);

      const run = await apiGet(await sessionToken(page), `/api/v3/workflows/${workflowId}/runs/${runId}`);
      expect(run.status).toBe('succeeded');
      expect(run.nodes.find((n: { id: string }) => n.id === 'review').status).toBe('succeeded');
      await expectNoHorizontalScroll(page);
      await screenshot(page, 'run-approval-phone');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('rejects an approval, retries, cancels, retries again and approves', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      await createFromTemplate(page, 'Review with approval');
      const runId = await startRun(page, 'tide pools');
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('waiting');
      const retry = page.getByRole('button', { name: `Retry run ${runId}` });
      expect(await retry.isDisabled()).toBe(true);

      await page.getByRole('button', { name: 'Reject review' }).click();
      await expect.poll(() => runStatus(page)).toBe('failed');
      expect(await nodeStatus(page, 'review')).toBe('failed');
      await expect.poll(() => page.locator('.stream-state').textContent()).toBe('ended');

      // Retry asks for the decision again; the page reconnects to the stream to follow it.
      await retry.click();
      await expect.poll(() => nodeStatus(page, 'review')).toBe('waiting');
      await expect.poll(() => page.locator('.stream-state').textContent()).toBe('live');

      await page.getByRole('button', { name: `Cancel run ${runId}` }).click();
      await expect.poll(() => runStatus(page)).toBe('cancelled');
      expect(await nodeStatus(page, 'summary')).toBe('cancelled');
      await retry.click();
      await expect.poll(() => nodeStatus(page, 'review')).toBe('waiting');

      await page.getByRole('button', { name: 'Approve review' }).click();
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      expect(await page.locator('.timeline li[data-type="run.retried"]').count()).toBe(2);
      expect(await page.locator('.timeline li[data-type="run.cancelled"]').count()).toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('runs the summarize-and-analyze template, whose input is a text', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const workflowId = await createFromTemplate(page, 'Summarize and analyze');
      await page
        .getByLabel('Input: text')
        .fill(
          'Solar panels cut energy bills for small farms. Farmers love the savings. Installation takes a week and the panels last twenty years.',
        );
      await page.getByRole('button', { name: 'Start run' }).click();
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      const runId = Number(page.url().match(/runs\/(\d+)$/)![1]);
      const run = await apiGet(await sessionToken(page), `/api/v3/workflows/${workflowId}/runs/${runId}`);
      const analysis = run.nodes.find((n: { id: string }) => n.id === 'analysis');
      await expect
        .poll(() => page.locator('.node[data-node="analysis"] .output').textContent())
        .toBe(JSON.stringify(analysis.output.data, null, 2));
      await screenshot(page, 'run-analyze-desktop');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('resumes a dropped event stream with Last-Event-ID, without gaps or repeats', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const workflowId = await createFromTemplate(page, 'Blog post: outline → draft → title');
      // The first stream answer is cut after five events, as when a run's object is evicted.
      const requests: (string | undefined)[] = [];
      await page.route(/\/runs\/\d+\/stream$/, async (route) => {
        requests.push(route.request().headers()['last-event-id']);
        if (requests.length > 1) return route.continue();
        const full = await (await route.fetch()).text();
        const firstFive = `${full.split('\n\n').slice(0, 5).join('\n\n')}\n\n`;
        await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: firstFive });
      });
      const runId = await startRun(page, 'wind turbines');
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');
      await expect.poll(() => requests).toEqual([undefined, '5']);

      await expect.poll(() => page.locator('.stream-state').textContent()).toBe('ended');

      // Every stored event is on the timeline once, in order; every output is whole and once.
      const token = await sessionToken(page);
      const events = await apiGet(token, `/api/v3/workflows/${workflowId}/runs/${runId}/events?limit=1000`);
      const stored = events.items.filter((e: { type: string }) => e.type !== 'node.token').map((e: { seq: number }) => e.seq);
      const shown = await page.locator('.timeline li[data-seq]').evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-seq'))));
      expect(shown).toEqual(stored);
      const run = await apiGet(token, `/api/v3/workflows/${workflowId}/runs/${runId}`);
      for (const n of run.nodes) expect(await page.locator(`.node[data-node="${n.id}"] .output`).textContent()).toBe(n.output.text);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
