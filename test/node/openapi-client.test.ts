import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/*
 * sdk/openapi.d.ts is generated from the routes (scripts/openapi-types.mjs) and committed, so its
 * changes are reviewed with the routes' and `npm run typecheck` works on a fresh clone. A route or
 * schema changed without regenerating it is this failure; the generator runs in its own process,
 * exactly as `npm run gen:openapi` does.
 */
const root = path.resolve(import.meta.dirname, '../..');

describe('the generated OpenAPI types (sdk/openapi.d.ts)', () => {
  it('match a fresh generation from the app: otherwise run npm run gen:openapi', { timeout: 120_000 }, async () => {
    const check = await promisify(execFile)(process.execPath, [path.join(root, 'scripts/openapi-types.mjs'), '--check'], {
      cwd: root,
    }).catch((e: { code?: number; stdout?: string; stderr?: string }) => e);
    expect(check.stderr, 'sdk/openapi.d.ts is stale: run npm run gen:openapi').toBe('');
    expect(check.stdout).toBe('sdk/openapi.d.ts is up to date\n');
  });
});
