import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, apiSend, launchBrowser, openConsole, registerThroughUi, sessionToken } from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('console: run trace', () => {
  it('draws the run trace as a waterfall: one row per span, each under its parent', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const token = await sessionToken(page);
      const wf = await apiSend(token, 'POST', '/api/v3/workflows', {
        name: 'traced in the console',
        nodes: [
          { id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' },
          { id: 'headline', type: 'title', depends_on: ['outline'] },
        ],
      });
      const run = await apiSend(token, 'POST', `/api/v3/workflows/${wf.id}/runs`, { input: { topic: 'lighthouses' } });
      await expect.poll(async () => (await apiGet(token, `/api/v3/workflows/${wf.id}/runs/${run.id}`)).status).toBe('succeeded');

      await page.goto(`/console#/workflows/${wf.id}/runs/${run.id}`);
      await page.getByRole('button', { name: `Show the trace of run ${run.id}` }).click();
      const rows = page.locator('.waterfall li');
      await expect.poll(() => rows.count()).toBeGreaterThan(0);

      const trace = await apiGet(token, `/api/v3/workflows/${wf.id}/runs/${run.id}/trace`);
      expect(await rows.count()).toBe(trace.spans.length);
      const shown = await rows.evaluateAll((lis) =>
        lis.map((li) => ({
          span: li.getAttribute('data-span'),
          parent: li.getAttribute('data-parent'),
          kind: li.getAttribute('data-kind'),
        })),
      );
      // Tree order: the run first, and every span after its parent.
      expect(shown[0]).toMatchObject({ kind: 'run', parent: '' });
      shown.forEach((row, i) => {
        if (row.parent) expect(shown.slice(0, i).map((r) => r.span)).toContain(row.parent);
      });
      expect(shown.filter((r) => r.kind === 'node')).toHaveLength(2);
      await expect.poll(() => page.locator('.waterfall').getByText('node outline').isVisible()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
