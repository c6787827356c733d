import { count, eq } from 'drizzle-orm';
import type { HitAllResult, WindowState } from '../lib/limits';
import { auditIfChanged, auditInsert, type RequestMeta } from '../lib/audit';
import type { DB } from '../db/client';
import { rateLimitPolicies, type LIMIT_SUBJECTS, type ROUTE_CLASSES } from '../db/schema';
import { ApiError } from '../lib/errors';
import { limiter, rateLimitHeaders, secondsUntil } from '../lib/limits';
import { log } from '../lib/log';
import { formatAddress, parseAddress } from './cidr';
import { recordSecurityEvent } from './events';

export type LimitSubject = (typeof LIMIT_SUBJECTS)[number];
export type RouteClass = (typeof ROUTE_CLASSES)[number];
export type PolicySpec = {
  name: string;
  subject: LimitSubject;
  routeClass: RouteClass;
  limit: number;
  windowSeconds: number;
  enabled: boolean;
};
export type Policy = PolicySpec & { source: 'default' | 'override'; updatedAt: number | null; updatedBy: number | null };

/**
 * Built-in policies, in force unless a row of rate_limit_policies with the same name replaces
 * them. The figures are set well above what a person or a well-behaved integration does
 * (a busy console session makes a few requests a second; the authorisation-matrix test makes
 * ~150 per session and per key in a few seconds) and low enough that one runaway script is cut
 * off within a minute. AI routes cost real money per call, hence their own, lower cap. The
 * `auth` class (sign-in, registration, refresh, MFA, password reset: reachable without
 * credentials) is counted per IP, since no user is known yet.
 */
export const DEFAULT_POLICIES: readonly PolicySpec[] = [
  { name: 'user-minute', subject: 'user', routeClass: 'all', limit: 1200, windowSeconds: 60, enabled: true },
  { name: 'user-hour', subject: 'user', routeClass: 'all', limit: 20_000, windowSeconds: 3600, enabled: true },
  { name: 'user-ai-minute', subject: 'user', routeClass: 'ai', limit: 60, windowSeconds: 60, enabled: true },
  { name: 'api-key-minute', subject: 'api_key', routeClass: 'all', limit: 1200, windowSeconds: 60, enabled: true },
  { name: 'api-key-hour', subject: 'api_key', routeClass: 'all', limit: 20_000, windowSeconds: 3600, enabled: true },
  { name: 'api-key-ai-minute', subject: 'api_key', routeClass: 'ai', limit: 60, windowSeconds: 60, enabled: true },
  { name: 'ip-minute', subject: 'ip', routeClass: 'all', limit: 3000, windowSeconds: 60, enabled: true },
  { name: 'ip-auth-minute', subject: 'ip', routeClass: 'auth', limit: 300, windowSeconds: 60, enabled: true },
  { name: 'ip-auth-hour', subject: 'ip', routeClass: 'auth', limit: 3000, windowSeconds: 3600, enabled: true },
];

/** How long an isolate trusts its copy of the policies; the isolate that made a change drops it at once. */
export const POLICY_CACHE_TTL_MS = 10_000;

type PolicyRow = typeof rateLimitPolicies.$inferSelect;

export function mergePolicies(rows: PolicyRow[]): Policy[] {
  const byName = new Map<string, Policy>(
    DEFAULT_POLICIES.map((p) => [p.name, { ...p, source: 'default', updatedAt: null, updatedBy: null }]),
  );
  for (const r of rows) {
    byName.set(r.name, {
      name: r.name,
      subject: r.subject,
      routeClass: r.routeClass,
      limit: r.limit,
      windowSeconds: r.windowSeconds,
      enabled: r.enabled,
      source: 'override',
      updatedAt: r.updatedAt,
      updatedBy: r.updatedBy,
    });
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Defaults merged with the stored overrides, read from D1 now (the admin view: never the cache). */
export async function readPolicies(db: DB): Promise<Policy[]> {
  return mergePolicies(await db.select().from(rateLimitPolicies).all());
}

/*
 * A per-isolate copy of the policies, so that a request costs no D1 read for them. It holds the
 * resolved value, not a promise: a promise created by one request and awaited by another is
 * tied to the first request's I/O context in workerd.
 */
let cache: { at: number; policies: Policy[] } | null = null;

export async function cachedPolicies(db: DB): Promise<Policy[]> {
  if (cache && Date.now() - cache.at < POLICY_CACHE_TTL_MS) return cache.policies;
  const policies = await readPolicies(db);
  cache = { at: Date.now(), policies };
  return policies;
}

export function invalidatePolicyCache() {
  cache = null;
}

const AI_PATH = /^\/api\/v3\/(advanced\/)?ai(\/|$)/;
/** The credential-less sign-in family: counted per IP before any handler runs. */
const AUTH_PATH = /^\/api\/v3\/(auth|security\/auth)\/(register|bootstrap|email\/verify|login|refresh|mfa|password)([/-]|$)/;

export const isAuthPath = (path: string) => AUTH_PATH.test(path);

/** The classes an authenticated request falls in; `auth` is counted separately, by IP. */
export function routeClasses(method: string, path: string): RouteClass[] {
  const classes: RouteClass[] = ['all', method === 'GET' || method === 'HEAD' ? 'read' : 'write'];
  if (AI_PATH.test(path)) classes.push('ai');
  return classes;
}

export type Subject = { kind: LimitSubject; id: string };

/**
 * The IP subject of an address: IPv4 as is; IPv6 by its /64, because one client is routinely
 * given a whole /64 and could otherwise rotate addresses within it to reset its count.
 */
export function ipSubject(ip: string): Subject {
  const addr = parseAddress(ip);
  if (!addr) return { kind: 'ip', id: ip.trim().slice(0, 64) };
  if (addr.family === 4) return { kind: 'ip', id: formatAddress(addr) };
  const net = new Uint8Array(16);
  net.set(addr.bytes.slice(0, 8));
  return { kind: 'ip', id: `${formatAddress({ family: 6, bytes: net })}/64` };
}

export const subjectKey = (s: Subject) => `rl:${s.kind}:${s.id}`;

export type LimitContext = { classes: RouteClass[]; userId: number | null; ip: string | null };
/** One subject's windows after counting this request: the answer of its object. */
export type Counted = { subject: Subject; result: HitAllResult };
/** A subject whose count could not be taken, and why. */
export type Uncounted = { subject: Subject; failure: string };

/** Retry-After of a write refused because the limiter was unavailable. */
export const LIMITER_RETRY_AFTER_SECONDS = 5;

/** Of the windows just counted, the one a client should watch: fewest left, then the longest wait. */
function tightest(windows: WindowState[]): WindowState {
  return windows.reduce((a, b) => (b.remaining < a.remaining || (b.remaining === a.remaining && b.resetAt > a.resetAt) ? b : a));
}

/**
 * Counts the request for one subject against every enabled policy of its kind and the request's
 * classes, with one RPC: the subject's object counts all those windows at once, all or nothing.
 * Null, without calling any object, when no policy applies.
 */
export async function countSubject(env: Env, db: DB, subject: Subject, classes: RouteClass[]): Promise<Counted | Uncounted | null> {
  try {
    const specs = (await cachedPolicies(db))
      .filter((p) => p.enabled && p.subject === subject.kind && classes.includes(p.routeClass))
      .map((p) => ({ name: p.name, limit: p.limit, windowSeconds: p.windowSeconds }));
    if (specs.length === 0) return null;
    return { subject, result: await limiter(env, subjectKey(subject)).hitAll(specs) };
  } catch (err) {
    return { subject, failure: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * What happens when a count cannot be taken (the subject's limiter object, or the policies' D1
 * read, failed): writes and the sign-in family fail closed with 503 and `Retry-After`, since a
 * limit that silently stops counting is what credential stuffing and runaway scripts need; reads
 * fail open, so an outage of the limiter is not an outage of the whole API. Either way the reason
 * is logged once per request, with the subjects that went uncounted.
 */
function settleFailures(env: Env, failures: Uncounted[], req: LimitContext): void {
  if (failures.length === 0) return;
  const closed = req.classes.includes('write') || req.classes.includes('auth');
  log(env.LOG_LEVEL, 'error', 'rate limiter unavailable', {
    outcome: closed ? 'refused (fail closed: write)' : 'allowed (fail open: read)',
    subjects: failures.map((f) => `${f.subject.kind}:${f.subject.id}`),
    failure: failures[0]!.failure,
    route_classes: req.classes,
  });
  if (closed) {
    throw new ApiError('service_unavailable', 'Rate limiting is unavailable, so changes are refused for now; retry shortly', {
      headers: { 'Retry-After': String(LIMITER_RETRY_AFTER_SECONDS) },
    });
  }
}

/**
 * Turns the subjects' counts into the answer: the IETF headers of the tightest window, or null
 * when nothing was counted; throws 503 for a write some count failed for (settleFailures); 429 when any window is full, after recording one security
 * event for the first refusal in each full window.
 *
 * Across subjects counting is not atomic: when the IP's window is full but the user's is not,
 * the user's counters have still counted the refused request.
 */
export async function settleLimits(
  env: Env,
  db: DB,
  counts: (Counted | Uncounted | null)[],
  req: LimitContext,
): Promise<Record<string, string> | null> {
  settleFailures(
    env,
    counts.filter((c): c is Uncounted => c !== null && 'failure' in c),
    req,
  );
  const counted = counts.filter((c): c is Counted => c !== null && 'result' in c);
  if (counted.length === 0) return null;
  const now = Date.now();
  if (counted.every((c) => c.result.allowed)) {
    const w = tightest(counted.flatMap((c) => c.result.windows));
    return rateLimitHeaders(w, w.remaining, secondsUntil(w.resetAt, now));
  }
  const full = counted.flatMap(({ subject, result }) => result.windows.filter((w) => w.full).map((w) => ({ w, subject })));
  await Promise.all(
    full
      .filter(({ w }) => w.firstRefusal)
      .map(({ w, subject }) =>
        recordSecurityEvent(env, db, {
          type: 'rate_limit_exceeded',
          severity: 'medium',
          userId: req.userId,
          ip: req.ip,
          dedupeKey: `rate_limit:${subjectKey(subject)}:${w.name}:${w.resetAt - w.windowSeconds * 1000}`,
          details: {
            subject: `${subject.kind}:${subject.id}`,
            policy: w.name,
            limit: w.limit,
            window_seconds: w.windowSeconds,
            route_classes: req.classes,
          },
        }),
      ),
  );
  // The request can pass again only once every full window has reset: report the latest.
  const { w, subject } = full.reduce((a, b) => (b.w.resetAt > a.w.resetAt ? b : a));
  const retryAfter = secondsUntil(w.resetAt, now);
  throw new ApiError(
    'rate_limited',
    `Rate limit exceeded: policy ${w.name} allows ${w.limit} requests per ${w.windowSeconds} s per ${subject.kind}`,
    {
      details: { policy: w.name, subject: subject.kind, limit: w.limit, window_seconds: w.windowSeconds, retry_after_seconds: retryAfter },
      headers: { 'Retry-After': String(retryAfter), ...rateLimitHeaders(w, 0, retryAfter) },
    },
  );
}

// ---- administration ------------------------------------------------------------------------

/** Stored overrides are few by nature; the cap keeps every request's policy scan trivial. */
export const MAX_STORED_POLICIES = 100;

/** Creates or replaces the policy `spec.name`, with its audit row in the same batch. */
export async function putPolicy(db: DB, meta: RequestMeta, spec: PolicySpec): Promise<Policy> {
  const existing = await db.select().from(rateLimitPolicies).where(eq(rateLimitPolicies.name, spec.name)).get();
  if (!existing) {
    const stored = await db.select({ n: count() }).from(rateLimitPolicies).get();
    if ((stored?.n ?? 0) >= MAX_STORED_POLICIES)
      throw new ApiError('conflict', `At most ${MAX_STORED_POLICIES} stored policies; delete one first`);
  }
  const before = existing
    ? mergePolicies([existing]).find((p) => p.name === spec.name)
    : DEFAULT_POLICIES.find((p) => p.name === spec.name);
  const now = Date.now();
  const values = {
    subject: spec.subject,
    routeClass: spec.routeClass,
    limit: spec.limit,
    windowSeconds: spec.windowSeconds,
    enabled: spec.enabled,
    updatedBy: meta.actorUserId,
    updatedAt: now,
  };
  const [rows] = await db.batch([
    db
      .insert(rateLimitPolicies)
      .values({ name: spec.name, ...values })
      .onConflictDoUpdate({ target: rateLimitPolicies.name, set: values })
      .returning(),
    auditInsert(db, meta, {
      action: 'rate_limit_policy.put',
      targetType: 'rate_limit_policy',
      targetId: spec.name,
      details: { before: before ? specOf(before) : null, after: specOf(spec) },
    }),
  ]);
  invalidatePolicyCache();
  return mergePolicies(rows).find((p) => p.name === spec.name)!;
}

const specOf = (p: PolicySpec): PolicySpec => ({
  name: p.name,
  subject: p.subject,
  routeClass: p.routeClass,
  limit: p.limit,
  windowSeconds: p.windowSeconds,
  enabled: p.enabled,
});

/** Deletes a stored policy; the default of that name, if any, applies again. */
export async function deletePolicy(db: DB, meta: RequestMeta, name: string): Promise<Policy | null> {
  const [deleted] = await db.batch([
    db.delete(rateLimitPolicies).where(eq(rateLimitPolicies.name, name)).returning(),
    auditIfChanged(db, meta, { action: 'rate_limit_policy.delete', targetType: 'rate_limit_policy', targetId: name }),
  ]);
  if (deleted.length === 0)
    throw new ApiError('not_found', `No stored policy named ${name} (built-in defaults are changed with PUT, e.g. enabled: false)`);
  invalidatePolicyCache();
  return mergePolicies([]).find((p) => p.name === name) ?? null;
}

/** `user:42`, `api_key:7` or `ip:<address>`, as the subject whose counters to read. */
export function parseSubject(text: string): Subject | null {
  const m = /^(user|api_key|ip):(.+)$/.exec(text.trim());
  if (!m) return null;
  if (m[1] === 'ip') return parseAddress(m[2]!) ? ipSubject(m[2]!) : null;
  return /^[1-9][0-9]{0,15}$/.test(m[2]!) ? { kind: m[1] === 'user' ? 'user' : 'api_key', id: m[2]! } : null;
}

/** The subject's current count in every policy for its kind, read from its object. */
export async function policyUsage(env: Env, db: DB, subject: Subject) {
  const [policies, counters] = await Promise.all([readPolicies(db), limiter(env, subjectKey(subject)).usage()]);
  return policies
    .filter((p) => p.subject === subject.kind)
    .map((p) => {
      const c = counters.find((x) => x.name === p.name && x.windowSeconds === p.windowSeconds);
      return { policy: p, count: c?.count ?? 0, refused: c?.refused ?? 0, resetAt: c?.resetAt ?? null };
    });
}
