import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, ORIGIN, SCREENSHOTS } from './browser.js';

/*
 * The API reference pages render offline: Swagger UI and ReDoc come from the Worker itself
 * (pinned npm packages), so with every request to any other origin refused the operations still
 * appear. Swagger UI keeps nothing in localStorage.
 */
let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

async function offlinePage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const elsewhere: string[] = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === ORIGIN || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    elsewhere.push(url.href);
    return route.abort();
  });
  return { page, elsewhere };
}

describe('API reference pages', () => {
  it('/docs (Swagger UI) shows the operations with no network but the Worker', async () => {
    const { page, elsewhere } = await offlinePage();
    await page.goto(`${ORIGIN}/docs`);
    // Swagger UI renders the tags in view (the rest as the page scrolls): the first ones, operations listed.
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 30_000 }).toBeGreaterThan(3);
    expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(1);
    expect(await page.locator('.opblock-summary-path').allTextContents()).toContain('/health');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'api-docs-swagger.png') });
    expect(elsewhere).toEqual([]);
    expect(await page.evaluate('Object.keys(localStorage)')).toEqual([]);
    await page.close();
  });

  it('/redoc (ReDoc) shows the operations with no network but the Worker', async () => {
    const { page, elsewhere } = await offlinePage();
    await page.goto(`${ORIGIN}/redoc`);
    await expect.poll(() => page.locator('[data-section-id^="operation/"]').count(), { timeout: 30_000 }).toBeGreaterThan(100);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'api-docs-redoc.png') });
    expect(elsewhere).toEqual([]);
    await page.close();
  });
});
