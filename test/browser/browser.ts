import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect, inject, onTestFailed } from 'vitest';
import { clearToast, readSession, unlabelledControls, widths } from './in-page.js';

export const ORIGIN = inject('consoleOrigin');
export const PASSWORD = 'violet-Harbor-lantern-93';
export const PHONE = { width: 375, height: 740 };
export const DESKTOP = { width: 1280, height: 900 };

/** Screenshots go to a temporary directory (printed once) rather than into the repository. */
export const SCREENSHOTS = path.join(tmpdir(), 'dwc-console-screenshots');
mkdirSync(SCREENSHOTS, { recursive: true });

/**
 * Debian's Chromium, headless. The flags switch off everything that would reach the network on
 * its own (component updates, sync, background requests): the only origin it talks to is the
 * local Worker on 127.0.0.1.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

let counter = 0;
export const uniqueName = (prefix: string) => `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}`;

export type ConsolePage = { page: Page; problems: string[]; close(): Promise<void> };

/**
 * A fresh browser context (its own sessionStorage) on the console. Uncaught exceptions and console
 * errors, which include CSP violations and failed loads, are collected so a test can require none.
 */
export async function openConsole(browser: Browser, viewport = DESKTOP): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport, baseURL: ORIGIN, locale: 'en-US', timezoneId: 'UTC' });
  // Belt and braces: any request to another origin fails the test instead of leaving the machine.
  await context.route(
    (url) => url.origin !== ORIGIN,
    (route) => route.abort('blockedbyclient'),
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  // What the page showed when it was closed, printed if the test fails.
  let last = '';
  if (expect.getState().currentTestName) onTestFailed(() => console.log(`problems: ${JSON.stringify(problems)}\n${last}`));
  await page.goto('/console');
  return {
    page,
    problems,
    async close() {
      last = `${page.url()}\n${(
        await page
          .locator('main')
          // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node; the rendered text is wanted
          .innerText({ timeout: 1000 })
          .catch((err: Error) => err.message)
      ).slice(0, 4000)}`;
      await context.close();
    },
  };
}

/** Registers through the form (which signs in), and waits for the workflows page. */
export async function registerThroughUi(page: Page, username = uniqueName('ui')) {
  await fillRegistration(page, username, PASSWORD);
  await page.getByRole('heading', { level: 1, name: 'Workflows' }).waitFor();
  return username;
}

export async function fillRegistration(page: Page, username: string, password: string) {
  const form = page.getByRole('form', { name: 'Create an account' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Email').fill(`${username}@example.com`);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Create account' }).click();
}

/** The bearer token the console holds, for checking what it shows against the API. */
export async function sessionToken(page: Page): Promise<string> {
  const session = await page.evaluate(readSession);
  expect(session).not.toBeNull();
  return session!.access_token;
}

export async function apiGet<T = any>(token: string, pathname: string): Promise<T> {
  const res = await fetch(`${ORIGIN}${pathname}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, pathname).toBe(200);
  return (await res.json()) as T;
}

export async function apiSend<T = any>(token: string, method: string, pathname: string, body: unknown): Promise<T> {
  const res = await fetch(`${ORIGIN}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.ok, `${method} ${pathname}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

/** Every visible control has an accessible name: a <label>, aria-label(ledby) or its own text. */
export async function expectLabelledControls(page: Page) {
  expect(await page.evaluate(unlabelledControls)).toEqual([]);
}

/** Nothing wider than the viewport: the page works without sideways scrolling. */
export async function expectNoHorizontalScroll(page: Page) {
  const { scroll, viewport } = await page.evaluate(widths);
  expect(scroll, 'page scroll width').toBeLessThanOrEqual(viewport);
}

export async function screenshot(page: Page, name: string) {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.evaluate(clearToast);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
  return file;
}
