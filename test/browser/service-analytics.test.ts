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
  ORIGIN,
  PASSWORD,
  PHONE,
  registerThroughUi,
  screenshot,
  sessionToken,
  uniqueName,
} from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

type Point = { start: string; count: number };
type Trend = { count: number; previous: number };

/** A finished run through the API, so the user has workflow, run and document events to count. */
async function workflowWithRun(token: string) {
  const wf = await apiSend(token, 'POST', '/api/v3/workflows', {
    name: 'Analytics sample',
    nodes: [{ id: 'outline', type: 'generate', prompt: 'Outline an article about {{input.topic}}' }],
  });
  const run = await apiSend(token, 'POST', `/api/v3/workflows/${wf.id}/runs`, { input: { topic: 'tidal energy' } });
  await expect
    .poll(async () => (await apiGet(token, `/api/v3/workflows/${wf.id}/runs/${run.id}`)).status, { timeout: 20_000 })
    .toBe('succeeded');
  return wf.id as number;
}

/** Waits for the view to show `range`, then checks every figure against the API's own answer for it. */
async function expectApiFigures(page: Page, token: string, range: string) {
  await expect.poll(() => page.locator(`.analytics[data-range="${range}"][aria-busy="false"]`).count()).toBe(1);
  const [summary, series, top, insights] = await Promise.all(
    ['summary', 'series', 'top', 'insights'].map((p) => apiGet(token, `/api/v3/analytics/${p}?time_range=${range}`)),
  );
  expect(summary.time_range).toBe(range);
  expect(summary.totals.count).toBeGreaterThan(0);
  expect(await page.locator('#analytics-scope').getAttribute('data-scope')).toBe(summary.scope);
  expect(await page.locator('#analytics-scope').textContent()).toContain(`scope: ${summary.scope}`);

  // Totals with their previous-period counts, overall and per event type.
  const totals = page.locator('dl.stats[aria-label="Totals"]');
  const all = totals.locator('div[data-type="All events"]');
  expect(await all.getAttribute('data-count')).toBe(String(summary.totals.count));
  expect(await all.getAttribute('data-previous')).toBe(String(summary.totals.previous));
  expect(await all.locator('dd').first().textContent()).toBe(summary.totals.count.toLocaleString('en-US'));
  // Valid <dl> groups (axe dlitem): only <dt> and <dd> inside each group; the trend is a second <dd>.
  expect(await totals.locator('div > :not(dt, dd)').count()).toBe(0);
  expect(await all.locator('dd.hint').textContent()).toContain('before');
  expect(await totals.locator('div[data-type]').count()).toBe(Object.keys(summary.by_type).length + 1);
  for (const [type, t] of Object.entries<Trend>(summary.by_type)) {
    expect(await totals.locator(`div[data-type="${type}"]`).getAttribute('data-count')).toBe(String(t.count));
  }

  // The chart: one column per bucket, each holding the API's count. Buckets are compared by their
  // start, and the non-empty ones checked one by one (they are recent, so stay in both windows).
  const chart = page.locator('svg[data-chart="events"]');
  expect(await chart.getAttribute('role')).toBe('img');
  expect(await chart.locator('g[data-key]').count()).toBe(series.buckets);
  const drawn = await chart.locator('g[data-key]').evaluateAll((gs) => gs.reduce((n, g) => n + Number(g.getAttribute('data-total')), 0));
  const total = (series.total as Point[]).reduce((n, p) => n + p.count, 0);
  expect(drawn).toBe(total);
  expect(total).toBe(summary.totals.count);
  for (const p of (series.total as Point[]).filter((q) => q.count > 0)) {
    expect(await chart.locator(`g[data-key="${p.start}"]`).getAttribute('data-total')).toBe(String(p.count));
  }

  // Top lists and insights: as many entries as the API returned, with its figures.
  expect(await page.locator('[data-list="run"] li').count()).toBe(top.most_run_workflows.length);
  for (const [i, w] of top.most_run_workflows.entries()) {
    expect(await page.locator('[data-list="run"] li').nth(i).textContent()).toContain(
      `${w.runs_started.toLocaleString('en-US')} runs started`,
    );
  }
  expect(await page.locator('[data-list="users"] li').count()).toBe(top.most_active_users.length);
  expect(await page.locator('[data-list="failing"] li').count()).toBe(top.most_failing_workflows.length);
  const found = [...insights.anomalies, ...insights.failure_spikes, ...insights.slowest_nodes, ...insights.expensive_workflows];
  const shown = page.locator('[data-list="insights"] li[data-kind]');
  expect(await shown.count()).toBe(found.length);
  for (const [i, ins] of found.entries()) expect(await shown.nth(i).textContent()).toContain(ins.message);
  return { summary, top, insights };
}

describe('console: service analytics', () => {
  it("shows the analytics API's totals, series, top lists and insights for each time range", async () => {
    // Someone else signs up first, so the console user is never the service's first (admin)
    // user: their scope is their own events, which no other test file adds to.
    const other = uniqueName('first');
    const res = await fetch(`${ORIGIN}/api/v3/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: other, email: `${other}@example.com`, password: PASSWORD }),
    });
    expect(res.status).toBe(201);

    const { page, problems, close } = await openConsole(browser, DESKTOP);
    try {
      await registerThroughUi(page);
      const token = await sessionToken(page);
      const workflowId = await workflowWithRun(token);

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Analytics', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Service analytics' }).waitFor();
      expect(
        await page
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Analytics', exact: true })
          .getAttribute('aria-current'),
      ).toBe('page');
      const day = await expectApiFigures(page, token, 'day');
      expect(day.summary.scope).toBe('mine');
      expect(day.top.most_run_workflows.map((w: { workflow_id: number }) => w.workflow_id)).toContain(workflowId);
      expect(await page.locator('[data-list="insights"] li[data-kind="expensive_workflow"]').count()).toBe(
        day.insights.expensive_workflows.length,
      );

      await page.getByLabel('Time range').selectOption('week');
      await expectApiFigures(page, token, 'week');
      expect(page.url()).toMatch(/#\/analytics\?time_range=week$/);
      await page.getByLabel('Time range').selectOption('hour');
      await expectApiFigures(page, token, 'hour');

      // The range is in the address: a reload shows the same view.
      await page.goto('/console#/analytics?time_range=year');
      await expectApiFigures(page, token, 'year');
      await expectLabelledControls(page);
      await screenshot(page, 'service-analytics-desktop');
      await page.setViewportSize(PHONE);
      await expectNoHorizontalScroll(page);
      await screenshot(page, 'service-analytics-phone');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });
});
