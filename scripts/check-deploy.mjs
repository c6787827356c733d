#!/usr/bin/env node
/*
 * Refuses to build a deployment that carries development values (`npm run check:deploy` and
 * `npm run deploy` run it first). What `wrangler deploy` uploads is wrangler.toml's [vars] (and
 * an [env.<name>] section's, when one is deployed), never .dev.vars; so this reads the
 * configuration as wrangler resolves it and checks each deployable environment.
 *
 * The Worker refuses development secrets at run time anyway (src/lib/config.ts: every
 * authenticated route answers 503); this catches the mistake before anything is uploaded.
 *
 *   node scripts/check-deploy.mjs [path/to/wrangler.toml]
 */
import { unstable_readConfig } from 'wrangler';

/** Secrets: set with `wrangler secret put`, never as plain [vars] in a committed file. */
const SECRET_NAMES = ['JWT_SECRET', 'PASSWORD_PEPPER', 'ENCRYPTION_KEYS', 'BOOTSTRAP_SECRET', 'HEALTH_CHECK_SECRET'];

/**
 * The problems of one resolved environment's variables, as sentences; none means deployable.
 * @example deployProblems({ ENVIRONMENT: 'development' }) // ['ENVIRONMENT is "development": …']
 */
export function deployProblems(vars) {
  const problems = [];
  const environment = vars.ENVIRONMENT;
  if (environment !== 'production') {
    problems.push(
      `ENVIRONMENT is ${environment === undefined ? 'unset' : JSON.stringify(environment)}: deployments say "production" (development is set by .dev.vars, which is never deployed)`,
    );
  }
  for (const [name, value] of Object.entries(vars)) {
    if (SECRET_NAMES.includes(name)) problems.push(`${name} is a secret: remove it from [vars] and use \`wrangler secret put ${name}\``);
    else if (typeof value === 'string' && (value.startsWith('dev-only-') || /^dev:/.test(value))) {
      problems.push(`${name} holds a development value`);
    }
  }
  return problems;
}

/** Every environment `wrangler deploy [--env name]` could upload from this file, with its problems. */
export function checkConfig(configPath) {
  const top = unstable_readConfig({ config: configPath }, { hideWarnings: true });
  const names = [undefined, ...(top.definedEnvironments ?? [])];
  return names.map((env) => {
    const config = env === undefined ? top : unstable_readConfig({ config: configPath, env }, { hideWarnings: true });
    return { env: env ?? '(top level)', problems: deployProblems(config.vars ?? {}) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const configPath = process.argv[2] ?? 'wrangler.toml';
  const failing = checkConfig(configPath).filter((r) => r.problems.length > 0);
  for (const { env, problems } of failing) for (const p of problems) console.error(`${configPath} ${env}: ${p}`);
  if (failing.length > 0) {
    console.error('Not deployable: fix the values above (docs/deploy.md, "Configuration").');
    process.exit(1);
  }
  console.log(`${configPath}: no development values in any deployable environment`);
}
