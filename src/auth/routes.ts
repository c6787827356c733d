import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { auditInsert, requestMeta } from '../audit/audit';
import type { AppEnv } from '../lib/context';
import { intVar, secrets } from '../lib/config';
import { ApiError } from '../lib/errors';
import { enforceLimit, limiter } from '../lib/limits';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { createApiKey, listApiKeys, publicApiKey, revokeApiKey } from './apikeys';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords';
import { ADMINS, ANY_ROLE } from './principal';
import { ApiKeyCreateBody, ApiKeyCreated, ApiKeySchema, LoginBody, RefreshBody, RegisterBody, RoleBody, TokenResponse, UserSchema } from './schemas';
import { createSession, revokeSession, rotateRefreshToken } from './sessions';
import { signAccessToken } from './tokens';
import { findUserByLogin, getUser, listUsers, normalizeLogin, publicUser, registerUser, setUserRole, type UserRow } from './users';
import { users } from '../db/schema';
import { eq } from 'drizzle-orm';

/** Attempts per account and per client IP; the account counter resets on a successful login. */
const LOGIN_ACCOUNT_POLICY = { name: 'login-account', limit: 10, windowSeconds: 900 };
const LOGIN_IP_POLICY = { name: 'login-ip', limit: 100, windowSeconds: 900 };

const invalidCredentials = () => new ApiError('unauthorized', 'Invalid username or password');

async function issueTokens(c: Context<AppEnv>, user: UserRow, session: { sessionId: string; refreshToken: string; refreshExpiresAt: number }) {
  const ttl = intVar(c.env.ACCESS_TOKEN_TTL_SECONDS, 900);
  return {
    access_token: await signAccessToken(secrets(c.env).jwtSecret, user.id, session.sessionId, ttl),
    token_type: 'Bearer' as const,
    expires_in: ttl,
    refresh_token: session.refreshToken,
    refresh_expires_in: Math.max(0, Math.floor((session.refreshExpiresAt - Date.now()) / 1000)),
    user: publicUser(user),
  };
}

const loginRoute = (path: string, extra: { operationId: string; summary: string; description?: string }) =>
  createRoute({
    method: 'post',
    path,
    tags: ['auth'],
    security: [],
    ...extra,
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: jsonResponse(TokenResponse, 'Signed in'),
      ...errorResponses('validation_error', 'unauthorized', 'rate_limited'),
    },
  });

/** Shared by the canonical route and the seeds' `/api/v3/security/auth/login`. */
async function login(c: Context<AppEnv>, body: z.infer<typeof LoginBody>) {
  const db = c.var.db;
  const { pepper } = secrets(c.env);
  const meta = requestMeta(c);
  const loginName = normalizeLogin(body.username ?? body.email ?? '');
  const accountKey = `login:account:${loginName}`;
  const ip = meta.ip;
  try {
    // Without CF-Connecting-IP (local development, tests) only the per-account limit applies.
    await Promise.all([
      enforceLimit(c.env, accountKey, LOGIN_ACCOUNT_POLICY),
      ip ? enforceLimit(c.env, `login:ip:${ip}`, LOGIN_IP_POLICY) : undefined,
    ]);
  } catch (err) {
    if (err instanceof ApiError) await auditInsert(db, meta, { action: 'auth.login', outcome: 'failure', details: { login: loginName, reason: 'rate_limited' } });
    throw err;
  }

  const user = await findUserByLogin(db, loginName);
  // Unknown users are checked against a dummy hash so both failures cost the same PBKDF2 work.
  const verdict = await verifyPassword(body.password, user?.passwordHash ?? (await dummyPasswordHash(pepper)), pepper);
  if (!user || !verdict.ok) {
    await auditInsert(db, meta, { action: 'auth.login', outcome: 'failure', actorUserId: user?.id ?? null, details: { login: loginName, reason: 'invalid_credentials' } });
    throw invalidCredentials();
  }
  await limiter(c.env, accountKey).reset();
  if (verdict.needsRehash) {
    const upgraded = await hashPassword(body.password, pepper);
    c.executionCtx.waitUntil(db.update(users).set({ passwordHash: upgraded }).where(eq(users.id, user.id)).run());
  }
  const session = await createSession(db, { ...meta, actorUserId: user.id }, user.id, intVar(c.env.REFRESH_TOKEN_TTL_SECONDS, 2_592_000));
  return c.json(await issueTokens(c, user, session), 200);
}

export const securityAuthRoutes = createRouter().openapi(
  loginRoute('/auth/login', {
    operationId: 'securityLogin',
    summary: 'Sign in (seed-compatible path)',
    description: 'Same as `POST /api/v3/auth/login`; kept because the original API documented this path.',
  }),
  async (c) => login(c, c.req.valid('json')),
);

export const authRoutes = createRouter()
  .openapi(
    createRoute({
      method: 'post',
      path: '/register',
      operationId: 'register',
      tags: ['auth'],
      security: [],
      summary: 'Register a user',
      description: 'The first user becomes `admin`; later users are `editor`. Passwords are checked with zxcvbn and rejected with reasons.',
      request: { body: jsonBody(RegisterBody) },
      responses: { 201: jsonResponse(UserSchema, 'Registered'), ...errorResponses('validation_error', 'conflict') },
    }),
    async (c) => {
      const user = await registerUser(c.var.db, secrets(c.env).pepper, requestMeta(c), c.req.valid('json'));
      return c.json(publicUser(user), 201);
    },
  )
  .openapi(loginRoute('/login', { operationId: 'login', summary: 'Sign in with username or email' }), async (c) => login(c, c.req.valid('json')))
  .openapi(
    createRoute({
      method: 'post',
      path: '/refresh',
      operationId: 'refreshTokens',
      tags: ['auth'],
      security: [],
      summary: 'Exchange a refresh token for a new token pair',
      description: 'The refresh token rotates on every use. Re-using an already exchanged token revokes the whole session.',
      request: { body: jsonBody(RefreshBody) },
      responses: { 200: jsonResponse(TokenResponse, 'New token pair'), ...errorResponses('validation_error', 'unauthorized') },
    }),
    async (c) => {
      const db = c.var.db;
      const result = await rotateRefreshToken(db, requestMeta(c), c.req.valid('json').refresh_token);
      if (!result.ok) {
        throw new ApiError('unauthorized', result.reason === 'reused' ? 'Refresh token reuse detected; the session has been revoked' : 'Invalid or expired refresh token');
      }
      const user = await getUser(db, result.userId);
      if (!user) throw new ApiError('unauthorized', 'Invalid or expired refresh token');
      return c.json(await issueTokens(c, user, result), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE },
        {
          method: 'post',
          path: '/logout',
          operationId: 'logout',
          tags: ['auth'],
          summary: 'Sign out: revoke the current session and its refresh tokens',
          responses: { 204: { description: 'Signed out' } },
        },
      ),
    ),
    async (c) => {
      const p = c.var.principal;
      if (p.kind === 'session') await revokeSession(c.var.db, requestMeta(c), p.userId, p.sessionId, 'logout');
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE, scope: 'profile:read' },
        { method: 'get', path: '/me', operationId: 'getMe', tags: ['auth'], summary: 'The signed-in user', responses: { 200: jsonResponse(UserSchema, 'Current user') } },
      ),
    ),
    async (c) => {
      const user = await getUser(c.var.db, c.var.principal.userId);
      if (!user) throw new ApiError('unauthorized', 'User no longer exists');
      return c.json(publicUser(user), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE },
        {
          method: 'post',
          path: '/api-keys',
          operationId: 'createApiKey',
          tags: ['api keys'],
          summary: 'Create an API key (the key is shown once)',
          request: { body: jsonBody(ApiKeyCreateBody) },
          responses: { 201: jsonResponse(ApiKeyCreated, 'Created'), ...errorResponses('validation_error') },
        },
      ),
    ),
    async (c) => {
      const { key, row } = await createApiKey(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('json'));
      return c.json({ ...publicApiKey(row), key }, 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE },
        {
          method: 'get',
          path: '/api-keys',
          operationId: 'listApiKeys',
          tags: ['api keys'],
          summary: 'List your API keys',
          request: { query: PageQuery },
          responses: { 200: jsonResponse(pageOf(ApiKeySchema, 'ApiKeyPage'), 'API keys, newest first'), ...errorResponses('validation_error', 'bad_request') },
        },
      ),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listApiKeys(c.var.db, c.var.principal.userId, limit, decodeCursor(cursor));
      return c.json(toPage(rows, limit, publicApiKey), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ANY_ROLE },
        {
          method: 'delete',
          path: '/api-keys/{id}',
          operationId: 'revokeApiKey',
          tags: ['api keys'],
          summary: 'Revoke an API key',
          request: { params: IdParam },
          responses: { 204: { description: 'Revoked' }, ...errorResponses('validation_error', 'not_found') },
        },
      ),
    ),
    async (c) => {
      await revokeApiKey(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id);
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ADMINS, scope: 'users:admin' },
        {
          method: 'get',
          path: '/users',
          operationId: 'listUsers',
          tags: ['users'],
          summary: 'List users (admin)',
          request: { query: PageQuery },
          responses: { 200: jsonResponse(pageOf(UserSchema, 'UserPage'), 'Users, newest first'), ...errorResponses('validation_error', 'bad_request') },
        },
      ),
    ),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const rows = await listUsers(c.var.db, limit, decodeCursor(cursor));
      return c.json(toPage(rows, limit, publicUser), 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(
        { roles: ADMINS, scope: 'users:admin' },
        {
          method: 'patch',
          path: '/users/{id}',
          operationId: 'setUserRole',
          tags: ['users'],
          summary: "Change a user's role (admin)",
          request: { params: IdParam, body: jsonBody(RoleBody) },
          responses: { 200: jsonResponse(UserSchema, 'Updated user'), ...errorResponses('validation_error', 'not_found') },
        },
      ),
    ),
    async (c) => {
      const user = await setUserRole(c.var.db, requestMeta(c), c.req.valid('param').id, c.req.valid('json').role);
      return c.json(publicUser(user), 200);
    },
  );
