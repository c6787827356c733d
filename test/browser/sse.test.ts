import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openConsole, type ConsolePage } from './browser.js';

/*
 * The console's event-stream parser, run in Chromium on the console's own module (loaded by the
 * page under its CSP), fed the awkward cases of the HTML standard's event-stream format.
 */
let browser: Browser;
let opened: ConsolePage;
let page: Page;
beforeAll(async () => {
  browser = await launchBrowser();
  opened = await openConsole(browser);
  page = opened.page;
});
afterAll(async () => {
  await opened?.close();
  await browser?.close();
});

type Parsed = { id?: string; event?: string; data?: string; retry?: number };

/** Feeds chunks to createParser from /console/sse.js in the page (a string: it must not be transpiled). */
function parse(chunks: string[]): Promise<Parsed[]> {
  return page.evaluate(`(async () => {
    const { createParser } = await import('/console/sse.js');
    const out = [];
    const parser = createParser((frame) => out.push(frame), (ms) => out.push({ retry: ms }));
    for (const chunk of ${JSON.stringify(chunks)}) parser.push(chunk, false);
    parser.push('', true);
    return out;
  })()`);
}

describe('console: event-stream parser', () => {
  it('reads id, event and data fields, dispatching on a blank line', async () => {
    expect(await parse(['id: 1\nevent: run.started\ndata: {"seq":1}\n\n'])).toEqual([{ id: '1', event: 'run.started', data: '{"seq":1}' }]);
  });

  it('handles CRLF and CR line ends, even split across chunks', async () => {
    expect(await parse(['id: 2\r', '\nevent: a\r\ndata: x\r', '\r\n', 'data: y\r\r'])).toEqual([
      { id: '2', event: 'a', data: 'x' },
      { id: '2', event: 'message', data: 'y' },
    ]);
  });

  it('joins multi-line data, skips comments and frames without data, strips one leading space and a BOM', async () => {
    expect(await parse(['\uFEFF: keep-alive\n\n', 'id: 7\n\n', 'data:  two\ndata:lines\n\n', 'retry: 2500\nretry: soon\n\n'])).toEqual([
      { id: '7', event: 'message', data: ' two\nlines' },
      { retry: 2500 },
    ]);
  });

  it('drops an unterminated frame at the end of the stream', async () => {
    expect(await parse(['data: complete\n\ndata: cut off'])).toEqual([{ event: 'message', data: 'complete' }]);
  });
});
