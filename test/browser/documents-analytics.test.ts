import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiGet,
  apiSend,
  DESKTOP,
  expectLabelledControls,
  expectNoHorizontalScroll,
  launchBrowser,
  openConsole,
  PHONE,
  registerThroughUi,
  screenshot,
  sessionToken,
} from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** A new user with the blog workflow and one finished run per topic, all made through the console. */
async function blogWithRuns(page: Page, topics: string[]) {
  await registerThroughUi(page);
  await page.getByRole('radio', { name: 'Blog post: outline → draft → title' }).check();
  await page.getByRole('button', { name: 'Create workflow' }).click();
  await page.getByRole('heading', { name: 'Start a run' }).waitFor();
  const workflowId = Number(page.url().match(/workflows\/(\d+)$/)![1]);
  for (const topic of topics) {
    await page.goto(`/console#/workflows/${workflowId}`);
    await page.getByLabel('Input: topic').fill(topic);
    await page.getByRole('button', { name: 'Start run' }).click();
    await expect.poll(() => page.locator('#run-status').textContent(), { timeout: 20_000 }).toBe('succeeded');
  }
  return { workflowId, token: await sessionToken(page) };
}

describe('console: documents and analytics (phone)', () => {
  it("renders a document's Markdown as text only: no markup from the document, no unsafe links", async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      await registerThroughUi(page);
      const token = await sessionToken(page);
      const content = [
        '# Heading',
        'A **bold** claim with `code` and a [safe link](https://example.com/a) and a [bad one](javascript:alert(1)).',
        '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>',
        '- one',
        '- two',
      ].join('\n');
      const doc = await apiSend(token, 'POST', '/api/v3/documents', { title: 'Markdown check', content });
      await page.goto(`/console#/documents/${doc.id}`);
      await expect.poll(() => page.locator('.doc-content h2').textContent()).toBe('Heading');
      expect(await page.locator('.doc-content strong').textContent()).toBe('bold');
      expect(await page.locator('.doc-content li').allTextContents()).toEqual(['one', 'two']);
      expect(await page.locator('.doc-content a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual([
        'https://example.com/a',
      ]);
      expect(await page.locator('.doc-content').textContent()).toContain('bad one (javascript:alert(1))');
      expect(await page.locator('.doc-content img, .doc-content script').count()).toBe(0);
      expect(await page.locator('.doc-content').textContent()).toContain('<img src=x onerror=');
      expect(await page.evaluate('window.__pwned ?? null')).toBeNull();
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it('searches documents and opens one with an earlier version', async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      const { token } = await blogWithRuns(page, ['beekeeping in cities', 'rainwater harvesting']);
      await page.getByRole('link', { name: 'Documents' }).first().click();
      await page.getByLabel('Search text').fill('beekeeping');
      await page.getByRole('button', { name: 'Search' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 2 }).first().textContent()).toBe('Documents matching "beekeeping"');
      const found = await apiGet(token, '/api/v3/documents?q=beekeeping');
      expect(found.items.length).toBeGreaterThan(0);
      await expect.poll(() => page.locator('.cards li.card').count()).toBe(found.items.length);
      await expectLabelledControls(page);
      await expectNoHorizontalScroll(page);

      // Edit the draft through the API, so it has a second version, then read both in the console.
      const draft = found.items.find((d: { node_id: string }) => d.node_id === 'draft');
      const original = await apiGet(token, `/api/v3/documents/${draft.id}`);
      await apiSend(token, 'PATCH', `/api/v3/documents/${draft.id}`, { content: 'An edited draft about urban beekeeping.' });

      await page.getByRole('link', { name: draft.title }).click();
      await expect.poll(() => page.locator('.doc-content').textContent()).toBe('An edited draft about urban beekeeping.');
      const versions = page.locator('.versions li');
      await expect.poll(() => versions.count()).toBe(2);
      await page.getByRole('link', { name: 'Version 1' }).click();
      await expect.poll(() => page.locator('.doc-content').getAttribute('data-version')).toBe('1');
      // Read formatted (the generated draft's Markdown headings are headings), the stored text one toggle away.
      expect(original.content).toMatch(/^#{1,2} /m);
      expect(await page.locator('.doc-content h2, .doc-content h3').count()).toBeGreaterThan(0);
      expect(await page.locator('.doc-content').textContent()).not.toContain('## ');
      expect(await page.locator('.doc-raw').isHidden()).toBe(true);
      await page.getByRole('button', { name: 'Show raw Markdown' }).click();
      await expect.poll(() => page.locator('.doc-raw').isVisible()).toBe(true);
      expect(await page.locator('.doc-raw').textContent()).toBe(original.content);
      expect(await page.locator('.doc-content').isHidden()).toBe(true);
      await page.getByRole('button', { name: 'Show formatted' }).click();
      await expect.poll(() => page.locator('.doc-content').isVisible()).toBe(true);
      expect(await page.locator('.notice').textContent()).toContain('You are viewing version 1 of 2');
      expect(await page.getByRole('link', { name: 'Version 1' }).getAttribute('aria-current')).toBe('page');
      await expectNoHorizontalScroll(page);
      await screenshot(page, 'document-version-phone');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("draws the workflow's analytics as SVG charts with the API's numbers", async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      const { workflowId, token } = await blogWithRuns(page, ['beekeeping in cities', 'rainwater harvesting']);
      const api = await apiGet(token, `/api/v3/workflows/${workflowId}/analytics?days=30`);
      expect(api.runs.total).toBe(2);
      await page.goto(`/console#/workflows/${workflowId}/analytics`);
      await expect.poll(() => page.locator('svg[data-chart]').count()).toBe(5);

      const perDay = page.locator('svg[data-chart="runs-per-day"]');
      for (const d of api.runs_per_day) {
        expect(await perDay.locator(`g[data-key="${d.day}"]`).getAttribute('data-total')).toBe(String(d.runs));
        expect(await perDay.locator(`g[data-key="${d.day}"] rect[data-segment="succeeded"]`).getAttribute('data-value')).toBe(
          String(d.succeeded),
        );
      }
      const drawnRuns = await perDay
        .locator('g[data-key]')
        .evaluateAll((gs) => gs.reduce((sum, g) => sum + Number(g.getAttribute('data-total')), 0));
      expect(drawnRuns).toBe(api.runs.total);

      const rate = page.locator('svg[data-chart="success-rate"] g[data-key="success-rate"]');
      expect(Number(await rate.getAttribute('data-value'))).toBe(api.success_rate);
      expect(await rate.locator('text').textContent()).toBe(`${Math.round(api.success_rate * 1000) / 10}%`);

      const duration = page.locator('svg[data-chart="run-duration"]');
      for (const p of ['p50', 'p95'])
        expect(Number(await duration.locator(`g[data-key="${p}"]`).getAttribute('data-value'))).toBe(api.run_duration_ms[p]);

      const nodes = page.locator('svg[data-chart="node-duration"]');
      expect(await nodes.locator('g[data-key]').count()).toBe(Object.keys(api.node_duration_ms).length * 2);
      for (const [node, d] of Object.entries<{ p50: number; p95: number }>(api.node_duration_ms)) {
        expect(Number(await nodes.locator(`g[data-key="${node}:p50"]`).getAttribute('data-value'))).toBe(d.p50);
        expect(Number(await nodes.locator(`g[data-key="${node}:p95"]`).getAttribute('data-value'))).toBe(d.p95);
      }

      const tokens = page.locator('svg[data-chart="tokens"]');
      expect(Number(await tokens.locator('g[data-key="in"]').getAttribute('data-value'))).toBe(api.tokens.in);
      expect(Number(await tokens.locator('g[data-key="out"]').getAttribute('data-value'))).toBe(api.tokens.out);
      expect(await tokens.locator('g[data-key="out"] text.value').textContent()).toBe(api.tokens.out.toLocaleString('en-US'));

      // Each chart is an image with a name and a description, for screen readers.
      for (const chart of await page.locator('svg[data-chart]').all()) {
        expect(await chart.getAttribute('role')).toBe('img');
        expect((await chart.locator('title').first().textContent())?.length).toBeGreaterThan(0);
        expect((await chart.locator('desc').textContent())?.length).toBeGreaterThan(0);
      }
      await expectLabelledControls(page);
      await expectNoHorizontalScroll(page);
      await screenshot(page, 'analytics-phone');
      await page.setViewportSize(DESKTOP);
      await screenshot(page, 'analytics-desktop');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
