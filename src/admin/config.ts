import { type AiEnv, configuredModel, defaultProvider, isConfigured, PROVIDERS, type ProviderName, providerChain } from '../ai';
import { type RegistrationSettings, registrationSettings } from '../auth';
import type { DB } from '../db/client';
import { isDevelopment, secretsProblem, VERSION } from '../lib/config';

/** Configuration whose values are shown: wrangler.toml's [vars] and the optional model settings. */
const VARS = [
  'ENVIRONMENT',
  'AI_PROVIDER',
  'AI_FALLBACK_PROVIDERS',
  'CORS_ORIGINS',
  'LOG_LEVEL',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'MAX_BODY_BYTES',
  'AUDIT_RETENTION_DAYS',
  'NOTIFICATIONS_EMAIL_FROM',
  'KNOWLEDGE_EMBEDDINGS',
  'KNOWLEDGE_MAX_SOURCES',
  'UPLOAD_MAX_BYTES',
  'EXPORT_INLINE_MAX_BYTES',
  'OPENAI_MODEL',
  'ANTHROPIC_MODEL',
  'GOOGLE_MODEL',
  'WORKERS_AI_MODEL',
  'WORKERS_AI_GATEWAY',
  'AI_MODELS',
] as const satisfies readonly (keyof AiEnv)[];

/**
 * Configuration of which only presence is shown. An allow-list of shown values (VARS), not a
 * deny-list of hidden ones, so a secret added later stays hidden until someone decides otherwise.
 * Endpoint URLs are here too: `https://user:key@host` is a common way to pass a credential.
 */
const SECRETS = [
  'JWT_SECRET',
  'PASSWORD_PEPPER',
  'ENCRYPTION_KEYS',
  'BOOTSTRAP_SECRET',
  'HEALTH_CHECK_SECRET',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GOOGLE_API_KEY',
  'OPENAI_BASE_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
] as const;

const OPTIONAL_BINDINGS = ['AI', 'VECTORIZE', 'SEND_EMAIL', 'EXPORTS', 'CONVERTER'] as const;

/** What PATCH /api/v3/admin/config changes: the settings an administrator already edits at run time, stored in D1. */
export const EDITABLE = ['registration'] as const;

type ConfigEnv = AiEnv & { OTEL_EXPORTER_OTLP_ENDPOINT?: string; OTEL_EXPORTER_OTLP_HEADERS?: string };

/** Which providers are set up here: the AI layer's own test, as the readiness report uses. */
const configuredProviders = (env: AiEnv) =>
  Object.fromEntries(PROVIDERS.map((p) => [p, isConfigured(p, env)])) as Record<ProviderName, boolean>;

/** The effective configuration, as an administrator may see it: values of settings, presence of secrets. */
export async function effectiveConfig(env: Env, db: DB) {
  const e: ConfigEnv = env;
  const configured = configuredProviders(e);
  const registration: RegistrationSettings & { source: 'default' | 'saved' } = await registrationSettings(env, db);
  return {
    environment: isDevelopment(env) ? ('development' as const) : ('production' as const),
    version: VERSION,
    vars: Object.fromEntries(VARS.map((name) => [name, typeof e[name] === 'string' ? e[name] : null])),
    secrets: Object.fromEntries(SECRETS.map((name) => [name, typeof e[name] === 'string' && e[name] !== ''])),
    secrets_problem: secretsProblem(env),
    bindings: Object.fromEntries(OPTIONAL_BINDINGS.map((name) => [name, e[name] !== undefined])),
    registration,
    ai: {
      provider: defaultProvider(e),
      chain: providerChain(e),
      configured,
      models: Object.fromEntries(PROVIDERS.filter((p) => configured[p]).map((p) => [p, configuredModel(p, e)])),
    },
    editable: [...EDITABLE],
  };
}
