import { sql } from 'drizzle-orm';
import { getDb } from '../db/client';
import { secretsProblem } from '../lib/config';
import { limiter } from '../lib/limits';
import { CATALOGUE_CHECKED, configuredModelInfo, defaultProvider, PROVIDERS, providerChain, type AiEnv } from '../ai';

export type CheckResult = { status: 'pass' | 'fail'; latency_ms: number; detail?: string };

/** Runs one check; a check may return a detail to show beside "pass". */
async function timed(fn: () => Promise<string | undefined>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const detail = await fn();
    return { status: 'pass', latency_ms: Math.round((performance.now() - started) * 100) / 100, ...(detail ? { detail } : {}) };
  } catch (err) {
    return {
      status: 'fail',
      latency_ms: Math.round((performance.now() - started) * 100) / 100,
      detail: err instanceof Error ? err.message : String(err),
    };
  }
}

/**
 * Exercises every binding for real: a D1 query, a KV write/read/delete, an RPC to a Durable
 * Object that round-trips its own storage, and the queue producer's presence (sending a probe
 * message would enqueue work, so the binding is checked, not used). Timing note: in a deployed
 * Worker, performance.now() only advances across I/O, which is exactly what these measure.
 */
export async function runHealthChecks(env: Env) {
  const checks = {
    d1: await timed(async () => {
      const row = await getDb(env.DB).get<{ n: number }>(sql`SELECT count(*) AS n FROM users`);
      return `${row?.n ?? 0} users`;
    }),
    kv: await timed(async () => {
      const key = `health:${crypto.randomUUID()}`;
      await env.CACHE.put(key, 'ok', { expirationTtl: 60 });
      const value = await env.CACHE.get(key);
      await env.CACHE.delete(key);
      if (value !== 'ok') throw new Error('KV read did not return the value written');
      return undefined;
    }),
    durable_objects: await timed(async () => {
      const probe = await limiter(env, 'health-probe').probe();
      if (!probe.ok) throw new Error('Durable Object storage round trip failed');
      return undefined;
    }),
    queue: await timed(async () => {
      if (typeof env.TASKS_QUEUE?.send !== 'function') throw new Error('TASKS_QUEUE producer binding missing');
      return 'producer bound';
    }),
    secrets: await timed(async () => {
      const problem = secretsProblem(env);
      if (problem) throw new Error(problem);
      return undefined;
    }),
  };
  const failed = Object.values(checks).some((c) => c.status === 'fail');
  return {
    status: failed ? ('unhealthy' as const) : ('healthy' as const),
    environment: env.ENVIRONMENT,
    ai: aiStatus(env),
    checks,
    time: new Date().toISOString(),
  };
}

/**
 * Which AI providers the engine will use, in order, which are configured here, and the model each
 * configured one would call by default, checked against the model catalogue: a retired model
 * (every call fails) or a deprecated one (a retirement date is set) is flagged with what to change.
 * Flagged, not failed: the fallback chain still answers, so the deployment is ready.
 */
export function aiStatus(env: AiEnv, at: Date = new Date()) {
  const configured = {
    local: true,
    'workers-ai': env.AI !== undefined,
    openai: Boolean(env.OPENAI_API_KEY),
    anthropic: Boolean(env.ANTHROPIC_API_KEY),
    google: Boolean(env.GOOGLE_API_KEY),
  };
  let problem: string | undefined;
  const models = Object.fromEntries(
    PROVIDERS.filter((p) => configured[p]).map((p) => {
      const { info, setting, problem: catalogueProblem } = configuredModelInfo(p, env, at);
      problem ??= catalogueProblem;
      const lifecycle = info.retires ? `${info.status === 'retired' ? 'retired' : 'retires'} on ${info.retires}` : 'is deprecated';
      const instead = info.replacement ? `; set ${setting} to ${info.replacement}` : `; set ${setting} to a served model`;
      return [
        p,
        {
          model: info.model,
          status: info.status,
          ...(info.retires ? { retires: info.retires } : {}),
          ...(info.replacement ? { replacement: info.replacement } : {}),
          ...(info.status === 'retired' || info.status === 'deprecated' ? { warning: `${info.model} ${lifecycle}${instead}` } : {}),
        },
      ];
    }),
  );
  return {
    provider: defaultProvider(env),
    chain: providerChain(env),
    configured,
    models,
    catalogue: { checked: CATALOGUE_CHECKED, ...(problem ? { problem } : {}) },
  };
}
