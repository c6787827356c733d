import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectLabelledControls,
  expectNoHorizontalScroll,
  fillRegistration,
  launchBrowser,
  openConsole,
  ORIGIN,
  PASSWORD,
  PHONE,
  registerThroughUi,
  uniqueName,
} from './browser.js';
import { focused, readSession, replaceAccessToken, storageSize } from './in-page.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('console: serving and signing in', () => {
  it('serves the shell and its modules under a strict CSP, with nothing inline', async () => {
    const res = await fetch(`${ORIGIN}/console`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|\son\w+=/);

    const js = await fetch(`${ORIGIN}/console/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${ORIGIN}/console/app.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    const missing = await fetch(`${ORIGIN}/console/missing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('registers, signs out and signs in again on a phone-sized screen', async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      await expect.poll(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
      await expectLabelledControls(page);
      await expectNoHorizontalScroll(page);

      const username = await registerThroughUi(page);
      await expect.poll(() => page.locator('#who').textContent()).toContain(username);
      await expectLabelledControls(page);
      await expectNoHorizontalScroll(page);

      // Keyboard: after a load the skip link is the first stop, and it moves focus to the content.
      await page.reload();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Workflows');
      await page.keyboard.press('Tab');
      expect((await page.evaluate(focused)).text).toBe('Skip to content');
      await page.keyboard.press('Enter');
      expect((await page.evaluate(focused)).id).toBe('main');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'You are signed out.' }).count()).toBe(1);
      expect(await page.evaluate(storageSize)).toBe(0);
      // The tab says where the user is now, not the view that was open (issue 26, finding 6).
      expect(await page.title()).toBe('Sign in — Document Workflow Chain');

      const form = page.getByRole('form', { name: 'Sign in' });
      await form.getByLabel('Username or email').fill(`${username}@example.com`);
      await form.getByLabel('Password').fill(PASSWORD);
      await form.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Workflows');
      expect(problems).toEqual([]);
    } finally {
      await close();
    }
  });

  it("shows the server's reasons when a password is refused", async () => {
    const { page, problems, close } = await openConsole(browser, PHONE);
    try {
      await fillRegistration(page, uniqueName('weak'), 'password12');
      const alert = page.getByRole('alert');
      await expect.poll(() => alert.textContent()).toContain('Password is too weak');
      // The only console noise is the browser's own report of the refused request.
      expect(problems.filter((p) => !p.includes('status of 400'))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('refreshes an expired access token once and carries on', async () => {
    const { page, problems, close } = await openConsole(browser);
    try {
      await registerThroughUi(page);
      const before = await page.evaluate(readSession);
      await page.evaluate(replaceAccessToken, 'expired.token.value');
      await page.reload();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Workflows');
      await expect.poll(() => page.getByText('No workflows yet').count()).toBe(1);
      const after = await page.evaluate(readSession);
      expect(after!.access_token).not.toBe('expired.token.value');
      expect(after!.refresh_token).not.toBe(before!.refresh_token);
      expect(problems.filter((p) => !p.includes('status of 401'))).toEqual([]);
    } finally {
      await close();
    }
  });
});
