import type { Context, MiddlewareHandler } from 'hono';
import { getDb } from '../db/client';
import { log } from '../lib/log';
import type { AppEnv, Guard } from '../lib/context';
import { assertConfigured, secrets } from '../lib/config';
import { ApiError } from '../lib/errors';
import { API_KEY_PREFIX, liveApiKey, resolveApiKey, touchApiKey } from './apikeys';
import { consumeSocketTicket } from './tickets';
import type { Access, Principal } from '../lib/access';
import { activeSessionUser } from './sessions';
import { verifyAccessToken } from './tokens';
import { noteAccessDenied, enforceIpRules, countSubject, ipSubject, routeClasses, settleLimits, type Subject } from '../security';

const unauthorized = (message: string) =>
  new ApiError('unauthorized', message, { headers: { 'WWW-Authenticate': 'Bearer realm="dwc", error="invalid_token"' } });

type Presented = { kind: 'api_key' | 'jwt' | 'ticket'; value: string };

const subprotocolToken = (header: string | undefined) =>
  (header ?? '')
    .split(',')
    .map((p) => p.trim())
    .find((p) => p.startsWith('bearer.'))
    ?.slice('bearer.'.length);

/**
 * The credential a request presents: the X-API-Key header, else `Authorization: Bearer` (an API
 * key by its prefix, else a JWT). Routes declared `socket` may also take a ticket or an access
 * token the ways a browser's WebSocket can send them; an API key there is refused outright.
 */
function presentedCredential(c: Context<AppEnv>, access: Access): Presented | null {
  const apiKeyHeader = c.req.header('x-api-key');
  if (apiKeyHeader) return { kind: 'api_key', value: apiKeyHeader.trim() };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  if (match) return { kind: match[1]!.startsWith(API_KEY_PREFIX) ? 'api_key' : 'jwt', value: match[1]! };
  if (!access.socket) return null;
  const ticket = c.req.query('ticket');
  if (ticket) return { kind: 'ticket', value: ticket };
  const token = c.req.query('token') ?? subprotocolToken(c.req.header('sec-websocket-protocol'));
  if (!token) return null;
  if (token.startsWith(API_KEY_PREFIX)) {
    throw unauthorized(
      'API keys are not accepted in a URL or subprotocol: send the X-API-Key header, or use a ticket (POST /api/v3/ws/ticket)',
    );
  }
  return { kind: 'jwt', value: token };
}

/**
 * Establishes the principal from the presented credential, or answers 401.
 * `onVerifiedUser` is told the user id as soon as it is known from a correctly signed, unexpired
 * token (or a ticket), before its session is looked up, so that work for that user can run beside
 * the lookup.
 */
async function resolvePrincipal(
  env: Env,
  db: AppEnv['Variables']['db'],
  cred: Presented | null,
  waitUntil: (p: Promise<unknown>) => void,
  onVerifiedUser: (userId: number) => void,
): Promise<Principal> {
  if (!cred) throw unauthorized('Authentication required');
  if (cred.kind === 'api_key') {
    const key = await resolveApiKey(db, cred.value, { env, waitUntil });
    if (!key) throw unauthorized('Invalid API key');
    waitUntil(touchApiKey(db, key.keyId, key.lastUsedAt));
    return { kind: 'api_key', userId: key.userId, username: key.username, role: key.role, apiKeyId: key.keyId, scopes: key.scopes };
  }
  let userId: number;
  let sessionId: string;
  if (cred.kind === 'ticket') {
    const ticket = await consumeSocketTicket(db, cred.value);
    if (!ticket) throw unauthorized('Invalid, expired or already used ticket');
    onVerifiedUser(ticket.userId);
    if (ticket.sessionId === null) {
      const key = ticket.apiKeyId === null ? undefined : await liveApiKey(db, ticket.apiKeyId);
      if (!key) throw unauthorized('The API key this ticket was made with is no longer valid');
      return { kind: 'api_key', userId: key.userId, username: key.username, role: key.role, apiKeyId: key.keyId, scopes: key.scopes };
    }
    userId = ticket.userId;
    sessionId = ticket.sessionId;
  } else {
    const claims = await verifyAccessToken(secrets(env).jwtSecret, cred.value);
    if (!claims) throw unauthorized('Invalid or expired access token');
    userId = Number(claims.sub);
    sessionId = claims.sid;
    onVerifiedUser(userId);
  }
  const user = await activeSessionUser(db, userId, sessionId);
  if (!user) throw unauthorized('Session has ended');
  return { kind: 'session', userId: user.id, username: user.username, role: user.role, sessionId };
}

/**
 * Authenticates and authorises in one step, from the route's declared access: the caller's
 * role must be listed, and an API key must also hold the declared scope (routes that declare no
 * scope refuse API keys). Undeclared means denied.
 *
 * Between authentication and authorisation come the key's own IP rules and the rate limits, so
 * that refused requests are counted too: a flood of forbidden calls is still a flood. The
 * limiter RPCs run beside the D1 lookups rather than after them: the client IP's as soon as the
 * request arrives, the user's as soon as the token's signature is verified (a request with a
 * revoked but unexpired token is therefore still counted for its user). An API key's id is only
 * known after its D1 lookup, so its count follows it.
 */
export const guard: Guard = (access: Access): MiddlewareHandler<AppEnv> => {
  return async function guard(c, next) {
    // A deployment whose secrets are missing, too short, or development values outside development
    // refuses every authenticated request, API keys included (a key is checked against D1 only, so
    // it would otherwise keep working while token routes failed): 503, with the problem in the log.
    assertConfigured(c.env);
    const { env } = c;
    const db = c.var.db;
    const ip = c.req.header('cf-connecting-ip') ?? null;
    const classes = routeClasses(c.req.method, c.req.path);
    // countSubject never rejects (a failed count is an Uncounted, settled by settleLimits), so a
    // count left unawaited when authentication fails first is not an unhandled rejection.
    const counting: ReturnType<typeof countSubject>[] = [];
    const count = (subject: Subject) => counting.push(countSubject(env, db, subject, classes));
    if (ip) count(ipSubject(ip));
    const principal = await resolvePrincipal(
      env,
      db,
      presentedCredential(c, access),
      (p) => c.executionCtx.waitUntil(p),
      (userId) => count({ kind: 'user', id: String(userId) }),
    );
    c.set('principal', principal);
    if (principal.kind === 'api_key') {
      await enforceIpRules(env, db, ip, { apiKeyId: principal.apiKeyId, userId: principal.userId });
      count({ kind: 'api_key', id: String(principal.apiKeyId) });
    }
    const limits = await settleLimits(env, db, await Promise.all(counting), { classes, userId: principal.userId, ip });
    // Set before the handler runs, so every response built from the context (errors included) has them.
    if (limits) for (const [k, v] of Object.entries(limits)) c.header(k, v);
    if (!access.roles.includes(principal.role)) {
      throw new ApiError('forbidden', `This action requires one of the roles: ${access.roles.join(', ')}`);
    }
    if (principal.kind === 'api_key') {
      if (!access.scope) throw new ApiError('forbidden', 'API keys cannot be used for this action; sign in instead');
      if (!principal.scopes.includes(access.scope)) throw new ApiError('forbidden', `This API key lacks the scope ${access.scope}`);
    }
    await next();
    // A handler that returned a Response of its own bypassed the context's headers; a 101
    // (WebSocket upgrade) response cannot be copied to add them.
    if (limits && c.res.status !== 101 && !c.res.headers.has('RateLimit')) for (const [k, v] of Object.entries(limits)) c.header(k, v);
  };
};

/**
 * Counts a request refused with 401 or 403 toward its subject's access-denied spike (the signed-in
 * user, else the client IP), after the answer is built: wired into the error renderer by src/app.ts.
 */
export function noteRefusal(c: Context<AppEnv>, err: ApiError): void {
  if (!c.env?.DB) return;
  const principal = c.get('principal') as Principal | undefined;
  const who = { userId: principal?.userId ?? null, ip: c.req.header('cf-connecting-ip') ?? null };
  const noted = noteAccessDenied(c.env, getDb(c.env.DB), who, { code: err.code, method: c.req.method, path: c.req.path });
  c.executionCtx.waitUntil(noted.catch((e) => log(c.env.LOG_LEVEL, 'error', 'access-denied counting failed', { error: String(e) })));
}
