import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { build } from 'esbuild';
import { defineConfig } from 'vitest/config';
import { fakeLlm } from './test/fake-llm.ts';

/*
 * Three projects:
 * - "workers": unit and integration tests inside workerd (Miniflare) with the real bindings from
 *   wrangler.toml — D1, KV, Durable Objects, queues — and the migrations applied in a setup file.
 * - "node": checks that need Node tooling, such as linting the OpenAPI document.
 * - "browser": the web console in headless Chromium (playwright-core) against the Worker served
 *   locally by wrangler on 127.0.0.1.
 */
export default defineConfig(async () => {
  // The workers pool serves the Static Assets directory from wrangler.toml and refuses to start
  // without it; building the console here (milliseconds when nothing changed) lets `npx vitest`
  // run on a fresh clone as `npm test` does.
  execFileSync(process.execPath, [path.join(import.meta.dirname, 'src/console/build.mjs')], { stdio: 'inherit' });
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  // The converter Worker (converter/), which the main Worker reaches through its CONVERTER service
  // binding, runs beside it as an auxiliary worker. The pool does not bundle auxiliary workers, so
  // it is bundled here as wrangler would bundle it (workerd conditions, cloudflare:* external).
  const converterScript = path.join(import.meta.dirname, 'dist/test-converter/index.js');
  await build({
    entryPoints: [path.join(import.meta.dirname, 'converter/src/index.ts')],
    outfile: converterScript,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['cloudflare:*'],
    logLevel: 'warning',
  });
  return {
    test: {
      reporters: ['default', './test/summary-reporter.ts'],
      projects: [
        {
          plugins: [
            cloudflareTest({
              main: './src/index.ts',
              wrangler: { configPath: './wrangler.toml' },
              // The AI binding has no local simulation and, left on, the pool would open a remote
              // session for it (a Cloudflare login): the tests never leave 127.0.0.1.
              remoteBindings: false,
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
                  // The openai provider talks to the scripted fake in test/fake-llm.ts.
                  OPENAI_API_KEY: 'test-key',
                  OPENAI_BASE_URL: 'http://llm.test/v1',
                },
                outboundService: fakeLlm,
                workers: [{ name: 'dwc-converter', modules: true, scriptPath: converterScript, compatibilityDate: '2026-04-01' }],
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
            setupFiles: ['./test/apply-migrations.ts'],
            testTimeout: 30_000,
            // Each file gets a fresh workerd (isolated storage), and starting one and loading the
            // worker's modules into it is most of a short file's time, partly spent waiting.
            // Vitest's default on 2 cores is a single worker; two overlap that start-up. Projects
            // with different worker counts must run as separate groups (sequence.groupOrder).
            maxWorkers: 2,
            sequence: { groupOrder: 0 },
          },
        },
        {
          test: { name: 'node', environment: 'node', include: ['test/node/**/*.test.ts'], sequence: { groupOrder: 1 } },
        },
        {
          test: {
            name: 'browser',
            environment: 'node',
            sequence: { groupOrder: 2 },
            include: ['test/browser/**/*.test.ts'],
            globalSetup: ['./test/browser/global-setup.ts'],
            testTimeout: 60_000,
            hookTimeout: 120_000,
            // The page reacts to the Worker and the Worker to the page: allow for a loaded machine.
            expect: { poll: { timeout: 15_000 } },
          },
        },
      ],
    },
  };
});
