import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/*
 * Issue 17, finding 8: production is the default. The committed wrangler.toml is what
 * `wrangler deploy` uploads, so it must say production; development comes from .dev.vars, which
 * is never deployed; and `npm run check:deploy` (scripts/check-deploy.mjs) refuses a configuration
 * that would deploy development values.
 */
type Check = {
  deployProblems(vars: Record<string, unknown>): string[];
  checkConfig(configPath: string): { env: string; problems: string[] }[];
};
const root = path.resolve(import.meta.dirname, '../..');
const wranglerToml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
let check: Check;

beforeAll(async () => {
  const scriptPath = '../../scripts/check-deploy.mjs';
  check = (await import(/* @vite-ignore */ scriptPath)) as Check;
});

/** A copy of the committed configuration with `edit` applied, next to it so its relative paths resolve. */
function variant(edit: (toml: string) => string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dwc-deploy-'));
  const file = path.join(dir, 'wrangler.toml');
  writeFileSync(file, edit(wranglerToml).replace('main = "src/index.ts"', `main = ${JSON.stringify(path.join(root, 'src/index.ts'))}`));
  return file;
}

describe('the committed configuration', () => {
  it('deploys production: no problem in any environment', () => {
    expect(wranglerToml).toMatch(/^ENVIRONMENT = "production"$/m);
    expect(check.checkConfig(path.join(root, 'wrangler.toml'))).toEqual([{ env: '(top level)', problems: [] }]);
  });

  it('leaves development to .dev.vars, which npm run dev and the tests read and wrangler deploy never uploads', () => {
    const devVars = readFileSync(path.join(root, '.dev.vars'), 'utf8');
    expect(devVars).toMatch(/^ENVIRONMENT="development"$/m);
  });
});

describe('npm run check:deploy', () => {
  it('fails when ENVIRONMENT would be deployed as development, or not at all', () => {
    const dev = check.checkConfig(variant((t) => t.replace('ENVIRONMENT = "production"', 'ENVIRONMENT = "development"')));
    expect(dev[0]!.problems).toEqual([expect.stringContaining('ENVIRONMENT is "development"')]);
    const unset = check.checkConfig(variant((t) => t.replace('ENVIRONMENT = "production"\n', '')));
    expect(unset[0]!.problems).toEqual([expect.stringContaining('ENVIRONMENT is unset')]);
  });

  it('fails on a development secret or any secret in [vars], in a named environment too', () => {
    const file = variant(
      (t) =>
        `${t}\n[env.staging]\nname = "dwc-staging"\n[env.staging.vars]\nENVIRONMENT = "production"\nJWT_SECRET = "dev-only-jwt-secret-0123456789abcdef0123456789abcdef"\nSOME_KEY = "dev:oOclaKKT4FOONZBDS6epMEf0bzM7U7Kx3uMTLTohBJM"\n`,
    );
    const results = check.checkConfig(file);
    expect(results.find((r) => r.env === '(top level)')!.problems).toEqual([]);
    expect(results.find((r) => r.env === 'staging')!.problems).toEqual([
      expect.stringContaining('JWT_SECRET is a secret'),
      'SOME_KEY holds a development value',
    ]);
  });

  it('runs before the dry-run build and before deploy', () => {
    const scripts = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    expect(scripts['check:deploy']).toMatch(/^node scripts\/check-deploy\.mjs && /);
    expect(scripts.deploy).toMatch(/^node scripts\/check-deploy\.mjs && /);
  });
});

describe('Workers AI in production, local in development', () => {
  it('wrangler deploy --dry-run binds AI and makes workers-ai the default, local the fallback', async () => {
    const { execFile } = await import('node:child_process');
    const outdir = mkdtempSync(path.join(tmpdir(), 'dwc-dry-'));
    const output = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [path.join(root, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir],
        // WRANGLER_LOG: the browser tests' setup sets it to warn in this process, which hides the bindings table.
        { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG: 'log', CI: 'true' }, timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(`${stdout}\n${stderr}`)),
      ),
    );
    expect(output).toMatch(/^env\.AI\s+AI\s*$/m);
    expect(output).toMatch(/^env\.AI_PROVIDER \("workers-ai"\)/m);
    expect(output).toMatch(/^env\.AI_FALLBACK_PROVIDERS \("local"\)/m);
  }, 180_000);

  it('npm run dev stays offline (.dev.vars: local) and npm run dev:ai makes only the AI binding remote', () => {
    expect(readFileSync(path.join(root, '.dev.vars'), 'utf8')).toMatch(/^AI_PROVIDER="local"$/m);
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.dev).toContain('--local');
    expect(pkg.scripts['dev:ai']).toBe('node scripts/dev-ai.mjs');
    const script = readFileSync(path.join(root, 'scripts/dev-ai.mjs'), 'utf8');
    expect(script).toContain('\'[ai]\\nbinding = "AI"\\nremote = true\'');
    expect(script).toContain("'AI_PROVIDER:workers-ai'");
  });
});
