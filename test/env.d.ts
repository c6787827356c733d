// Test-only binding added in vitest.config.ts: the D1 migrations, applied by test/apply-migrations.ts.
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[];
  }
}
