import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, expectLabelledControls, launchBrowser, openConsole, registerThroughUi, screenshot, sessionToken } from './browser.js';

/*
 * Editable review in the console (issue 16): the approval card offers approve, reject, request
 * changes and edit; the document page says who wrote the text (a visible label for the local
 * provider, which is not a language model) and lists the review decisions it went through.
 */

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const runStatus = (page: Page) => page.locator('#run-status').textContent();
const nodeStatus = (page: Page, node: string) => page.locator(`.node[data-node="${node}"]`).getAttribute('data-status');

describe('console: review decisions', () => {
  it('requests changes, then edits the draft and approves; the document shows the reviews and the local-provider label', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      await page.getByRole('radio', { name: 'Review with approval' }).check();
      await page.getByRole('button', { name: 'Create workflow' }).click();
      await expect.poll(() => page.getByRole('heading', { name: 'Start a run' }).isVisible()).toBe(true);
      const workflowId = Number(page.url().match(/#\/workflows\/(\d+)/)![1]);
      await page.getByLabel('Input: topic').fill('community gardens');
      await page.getByRole('button', { name: 'Start run' }).click();
      await expect.poll(() => page.url()).toMatch(/#\/workflows\/\d+\/runs\/\d+$/);
      const runId = Number(page.url().match(/runs\/(\d+)$/)![1]);
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('waiting');
      for (const name of ['Approve review', 'Reject review', 'Request changes at review']) {
        expect(await page.getByRole('button', { name }).isVisible(), name).toBe(true);
      }
      await expectLabelledControls(page);

      // Requesting changes needs a comment; the page says so without sending anything.
      await page.getByRole('button', { name: 'Request changes at review' }).click();
      await expect.poll(() => page.locator('.approval .alert').textContent()).toContain('Say in the comment what to change');
      expect(await nodeStatus(page, 'review')).toBe('waiting');

      await page.getByLabel('Comment on review (optional)').fill('Add a paragraph on soil');
      await page.getByRole('button', { name: 'Request changes at review' }).click();
      await expect.poll(() => page.locator('.timeline li[data-type="node.changes_requested"]').count()).toBe(1);
      // The draft ran again and the approval asks again.
      await expect.poll(() => page.locator('.timeline li[data-type="node.waiting"]').count(), { timeout: 20_000 }).toBe(2);
      await expect.poll(() => nodeStatus(page, 'review')).toBe('waiting');

      await page.getByText('Edit the document').click();
      const text = page.getByLabel('Edited text for review');
      const draftText = await page.locator('.node[data-node="draft"] pre.output').textContent();
      await expect.poll(() => text.inputValue()).toBe(draftText);
      const edited = '# Gardens, edited\n\nCommunity gardens need good soil and shared water.';
      await text.fill(edited);
      await page.getByRole('button', { name: 'Save edit at review' }).click();
      await expect.poll(() => runStatus(page), { timeout: 20_000 }).toBe('succeeded');

      const token = await sessionToken(page);
      const run = await apiGet(token, `/api/v3/workflows/${workflowId}/runs/${runId}`);
      expect(run.reviews.map((r: { decision: string }) => r.decision)).toEqual(['request_changes', 'edit']);
      const draft = run.nodes.find((n: { id: string }) => n.id === 'draft');
      expect(draft.output.text).toBe(edited);
      const summary = run.nodes.find((n: { id: string }) => n.id === 'summary');
      expect(summary.output.text).toContain('soil');

      await page.goto(`/console#/documents/${draft.output.document_id}`);
      await expect.poll(() => page.locator('.doc-raw').textContent()).toBe(edited);
      const label = await page.locator('.label.local-provider').textContent();
      expect(label).toContain('Not written by a language model');
      expect(label).toContain('A reviewer replaced its text (version 3)');
      expect(await page.locator('.reviews li').allTextContents()).toEqual([
        expect.stringMatching(/^request changes at review by user \d+: Add a paragraph on soil · /),
        expect.stringMatching(/^edit at review by user \d+ → version 3 · /),
      ]);
      expect(await page.locator('.versions li').count()).toBe(3);
      await screenshot(page, 'document-reviewed');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
