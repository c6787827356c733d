/** The release, as /health and the OpenAPI document report it (and the docs cache is keyed by). */
export const VERSION = '0.1.0';

/**
 * Secrets come from `.dev.vars` locally (committed, development-only values, with
 * ENVIRONMENT=development) and from `wrangler secret put` in production. A worker that is not in
 * development and still has a development value, or none, refuses every credential — sign-in,
 * tokens and API keys alike, with 503 — rather than run with a guessable key.
 */
const DEV_PREFIX = 'dev-only-';

/**
 * Development (the committed `.dev.vars` says so) relaxes what only a developer's machine may
 * do. Anything else — production, unset, a typo, "staging" — gets production's protections, so
 * a deployment that forgets the variable is never the lenient one.
 */
export const isDevelopment = (env: { ENVIRONMENT?: string }) => env.ENVIRONMENT === 'development';

export type Secrets = { jwtSecret: string; pepper: string; encryptionKeys: string };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function secretsProblem(env: Env): string | null {
  const jwt = env.JWT_SECRET ?? '';
  const pepper = env.PASSWORD_PEPPER ?? '';
  if (jwt.length < 32) return 'JWT_SECRET must be set to at least 32 characters';
  if (pepper.length < 16) return 'PASSWORD_PEPPER must be set to at least 16 characters';
  const keys = env.ENCRYPTION_KEYS ?? '';
  if (!/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{43}/.test(keys)) return 'ENCRYPTION_KEYS must be set to <id>:<32 bytes base64url>[,…]';
  if (!isDevelopment(env) && (jwt.startsWith(DEV_PREFIX) || pepper.startsWith(DEV_PREFIX) || keys.startsWith('dev:'))) {
    return 'development secrets are only allowed with ENVIRONMENT=development; use `wrangler secret put`';
  }
  return null;
}

/** Throws a ConfigError (answered 503, logged) unless the deployment's secrets are usable. */
export function assertConfigured(env: Env): void {
  const problem = secretsProblem(env);
  if (problem) throw new ConfigError(problem);
}

export function secrets(env: Env): Secrets {
  assertConfigured(env);
  return { jwtSecret: env.JWT_SECRET, pepper: env.PASSWORD_PEPPER, encryptionKeys: env.ENCRYPTION_KEYS };
}

export function intVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : fallback;
}
