import { createRoute, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type AppEnv, requestMeta } from '../lib/context';
import { assertConfigured } from '../lib/config';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { createApiKey, listApiKeys, publicApiKey, revokeApiKey } from './apikeys';
import { issueTokens, passwordSignIn } from './login';
import { getCookie } from 'hono/cookie';
import { DEVICE_COOKIE, deviceCookie } from './devices';
import { ADMINS, ANY_ROLE } from '../lib/access';
import {
  ApiKeyCreateBody,
  ApiKeyCreated,
  ApiKeySchema,
  LoginBody,
  LoginResponse,
  RefreshBody,
  RoleBody,
  TokenResponse,
  UserSchema,
} from './schemas';
import { requireRecentAuthentication, revokeSession, rotateRefreshToken } from './sessions';
import { getUser, listUsers, publicUser, setUserRole } from './users';
import { recordSecurityEvent } from '../security';

const loginRoute = (path: string, extra: { operationId: string; summary: string; description?: string }) =>
  createRoute({
    method: 'post',
    path,
    tags: ['auth'],
    security: [],
    ...extra,
    request: { body: jsonBody(LoginBody) },
    responses: {
      200: jsonResponse(
        LoginResponse,
        'Signed in (`TokenResponse`), or, when MFA is enabled, a challenge for the second factor (`MfaChallenge`: finish with `POST /api/v3/auth/mfa/verify`)',
      ),
      ...errorResponses('validation_error', 'unauthorized', 'rate_limited'),
    },
  });

/**
 * Shared by the canonical route and the seeds' `/api/v3/security/auth/login`. The device token
 * comes from the body or, for a browser, its HttpOnly cookie; a completed sign-in sets the cookie.
 */
async function login(c: Context<AppEnv>, body: z.infer<typeof LoginBody>) {
  const device_token = body.device_token ?? getCookie(c, DEVICE_COOKIE);
  const out = await passwordSignIn(c.env, c.var.db, requestMeta(c), { ...body, device_token }, (p) => c.executionCtx.waitUntil(p));
  if ('device_token' in out) c.header('Set-Cookie', deviceCookie(out.device_token));
  return out;
}

export const securityAuthRoutes = createRouter().openapi(
  loginRoute('/auth/login', {
    operationId: 'securityLogin',
    summary: 'Sign in (seed-compatible path)',
    description: 'Same as `POST /api/v3/auth/login`; kept because the original API documented this path.',
  }),
  async (c) => c.json(await login(c, c.req.valid('json')), 200),
);

export const authRoutes = createRouter()
  .openapi(loginRoute('/login', { operationId: 'login', summary: 'Sign in with username or email' }), async (c) =>
    c.json(await login(c, c.req.valid('json')), 200),
  )
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
      // Before the rotation: a deployment that cannot sign the new token must not consume the old one.
      assertConfigured(c.env);
      const db = c.var.db;
      const meta = requestMeta(c);
      const result = await rotateRefreshToken(db, meta, c.req.valid('json').refresh_token);
      if (!result.ok && result.reason === 'reused') {
        // A leaked token, or a client racing itself: one event per session, however often replayed.
        await recordSecurityEvent(c.env, db, {
          type: 'refresh_token_reuse',
          severity: 'high',
          userId: result.userId,
          ip: meta.ip,
          dedupeKey: `refresh_token_reuse:${result.sessionId}`,
          details: { session_id: result.sessionId, session_revoked: true },
        });
        throw new ApiError('unauthorized', 'Refresh token reuse detected; the session has been revoked');
      }
      if (!result.ok) throw new ApiError('unauthorized', 'Invalid or expired refresh token');
      const user = await getUser(db, result.userId);
      if (!user) throw new ApiError('unauthorized', 'Invalid or expired refresh token');
      return c.json(await issueTokens(c.env, user, result), 200);
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
        {
          method: 'get',
          path: '/me',
          operationId: 'getMe',
          tags: ['auth'],
          summary: 'The signed-in user',
          responses: { 200: jsonResponse(UserSchema, 'Current user') },
        },
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
          summary: 'Create an API key (the key is shown once); needs a recent sign-in',
          description:
            'The session must have signed in or re-authenticated (`POST /api/v3/auth/reauthenticate`) within the last 5 minutes; otherwise 403 with `details.reason: reauthentication_required`. Refreshing tokens does not count.',
          request: { body: jsonBody(ApiKeyCreateBody) },
          responses: { 201: jsonResponse(ApiKeyCreated, 'Created'), ...errorResponses('validation_error') },
        },
      ),
    ),
    async (c) => {
      const p = c.var.principal;
      // withAccess without a scope refuses API keys, so this is a session: it must have proved a factor recently.
      if (p.kind !== 'session') throw new ApiError('forbidden', 'Sign in to do this');
      await requireRecentAuthentication(c.var.db, p.sessionId);
      const { key, row } = await createApiKey(c.var.db, requestMeta(c), p.userId, c.req.valid('json'));
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
          responses: {
            200: jsonResponse(pageOf(ApiKeySchema, 'ApiKeyPage'), 'API keys, newest first'),
            ...errorResponses('validation_error', 'bad_request'),
          },
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
          responses: {
            200: jsonResponse(pageOf(UserSchema, 'UserPage'), 'Users, newest first'),
            ...errorResponses('validation_error', 'bad_request'),
          },
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
