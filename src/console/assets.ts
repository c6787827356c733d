/*
 * The console's browser files are not part of the Worker bundle: src/console/build.mjs compiles
 * src/console/client into dist/assets/console, which wrangler.toml declares as the Workers Static
 * Assets directory. Every request runs the Worker first (assets.run_worker_first), so no file is
 * ever served without the headers the console routes add; the routes read the files through the
 * ASSETS binding.
 */

/**
 * The files served under /console/<name>, with their content types: one ES module per
 * client/*.ts, compiled on its own so the modules' relative imports stay as written, and the
 * stylesheet. A module added to client/ must be listed here too, or the browser cannot load it.
 */
export const CONSOLE_FILES = {
  'app.js': 'text/javascript',
  'api.js': 'text/javascript',
  'dom.js': 'text/javascript',
  'sse.js': 'text/javascript',
  'auth.js': 'text/javascript',
  'templates.js': 'text/javascript',
  'workflows.js': 'text/javascript',
  'workflow.js': 'text/javascript',
  'run.js': 'text/javascript',
  'timeline.js': 'text/javascript',
  'trace.js': 'text/javascript',
  'documents.js': 'text/javascript',
  'markdown.js': 'text/javascript',
  'charts.js': 'text/javascript',
  'analytics.js': 'text/javascript',
  'service.js': 'text/javascript',
  'app.css': 'text/css',
} as const;

export type ConsoleFile = keyof typeof CONSOLE_FILES;

export const isConsoleFile = (name: string): name is ConsoleFile => Object.hasOwn(CONSOLE_FILES, name);

/**
 * A built file's text (the HTML shell is index.html), read through the ASSETS binding, where the
 * build put it at /console/<name>. A listed file that is missing means the console was not built
 * with this Worker: a server fault, not the client's.
 */
export async function readConsoleFile(assets: Fetcher, requestUrl: string, name: ConsoleFile | 'index.html'): Promise<string> {
  const res = await assets.fetch(new URL(`/console/${name}`, requestUrl));
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`The console file ${name} is not in the static assets (status ${res.status}); run npm run build:console`);
  }
  return res.text();
}
