import { sql } from 'drizzle-orm';
import { getDb } from '../db/client';
import { isDevelopment, secretsProblem } from '../lib/config';
import { limiter } from '../lib/limits';
import { CATALOGUE_CHECKED, configuredModelInfo, defaultProvider, isConfigured, PROVIDERS, providerChain, type AiEnv } from '../ai';

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

export type HealthReport = Awaited<ReturnType<typeof runHealthChecks>>;

/** How long one readiness report is answered again before the bindings are checked anew. */
export const READINESS_CACHE_MS = 15_000;

/*
 * Per isolate, and that is enough: the cache bounds what readiness costs (a D1 query, three KV
 * operations and a Durable Object write per check) to one check per isolate per 15 seconds
 * however often it is asked, and a monitor that needs a fresh answer waits at most that long.
 * Concurrent requests share the check in flight.
 */
let latest: { at: number; report: Promise<HealthReport> } | null = null;

/** The readiness report, checked at most once per READINESS_CACHE_MS in this isolate. */
export function readiness(env: Env, now = Date.now()): Promise<HealthReport> {
  if (latest && now - latest.at < READINESS_CACHE_MS) return latest.report;
  const report = runHealthChecks(env);
  latest = { at: now, report };
  // A check that threw (it should not: each is caught) is not kept.
  report.catch(() => {
    if (latest?.report === report) latest = null;
  });
  return report;
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
      // A read of a real table (the schema is migrated), not a count: no figure about the data leaves.
      await getDb(env.DB).get(sql`SELECT id FROM users LIMIT 1`);
      return undefined;
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
    environment: isDevelopment(env) ? ('development' as const) : ('production' as const),
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
  const configured = Object.fromEntries(PROVIDERS.map((p) => [p, isConfigured(p, env)])) as Record<(typeof PROVIDERS)[number], boolean>;
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
