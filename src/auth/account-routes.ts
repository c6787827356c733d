import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { changePassword, requestPasswordReset, resetPassword, type SystemMail } from './credentials';
import { ANY_ROLE, type Principal } from '../lib/access';
import { Accepted, PasswordChangeBody, PasswordForgotBody, PasswordResetBody, SessionIdParam, SessionSchema } from './schemas';
import { listActiveSessions, publicSession, revokeAllSessions, revokeSession } from './sessions';
import { requestMeta } from '../lib/context';

/*
 * The signed-in user's sessions and password, mounted at /api/v3/auth. Session-only: an API key
 * is not a session and cannot end sessions or change the password.
 */
const sessionOnly = { roles: ANY_ROLE };

function sessionOf(p: Principal): string {
  // withAccess without a scope refuses API keys before the handler runs; this narrows the type.
  if (p.kind !== 'session') throw new ApiError('forbidden', 'Sign in to do this');
  return p.sessionId;
}

const SessionsRevoked = z.object({ sessions_revoked: z.number().int() }).openapi('SessionsRevoked');
const FORGOT_ANSWER = 'If the account exists, a reset token is on its way. It is valid for 30 minutes and works once.';

/** The account's own routes; `mail` sends the password-reset mail (src/app.ts passes notifications'). */
export const accountRoutes = (mail: SystemMail) =>
  createRouter()
    .openapi(
      createRoute(
        withAccess(sessionOnly, {
          method: 'get',
          path: '/sessions',
          operationId: 'listSessions',
          tags: ['sessions'],
          summary: 'Your active sessions (signed-in devices), newest first',
          request: { query: PageQuery },
          responses: {
            200: jsonResponse(pageOf(SessionSchema, 'SessionPage'), 'Active sessions'),
            ...errorResponses('validation_error', 'bad_request'),
          },
        }),
      ),
      async (c) => {
        const { limit, cursor } = c.req.valid('query');
        const rows = await listActiveSessions(c.var.db, c.var.principal.userId, limit, decodeCursor(cursor));
        return c.json(toPage(rows, limit, publicSession(sessionOf(c.var.principal))), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(sessionOnly, {
          method: 'delete',
          path: '/sessions/{id}',
          operationId: 'revokeSession',
          tags: ['sessions'],
          summary: 'End one of your sessions (its access and refresh tokens stop working at once)',
          request: { params: SessionIdParam },
          responses: { 204: { description: 'Session ended' }, ...errorResponses('validation_error', 'not_found') },
        }),
      ),
      async (c) => {
        const ended = await revokeSession(c.var.db, requestMeta(c), c.var.principal.userId, c.req.valid('param').id, 'revoked_by_user');
        // Another user's session, an unknown id and an ended session all answer alike.
        if (!ended) throw new ApiError('not_found', 'Session not found');
        return c.newResponse(null, 204);
      },
    )
    .openapi(
      createRoute(
        withAccess(sessionOnly, {
          method: 'post',
          path: '/logout-all',
          operationId: 'logoutAll',
          tags: ['sessions'],
          summary: 'Sign out everywhere: end every session of yours, this one included',
          responses: { 200: jsonResponse(SessionsRevoked, 'Sessions ended') },
        }),
      ),
      async (c) => c.json({ sessions_revoked: await revokeAllSessions(c.var.db, requestMeta(c), c.var.principal.userId) }, 200),
    )
    .openapi(
      createRoute(
        withAccess(sessionOnly, {
          method: 'post',
          path: '/password',
          operationId: 'changePassword',
          tags: ['passwords'],
          summary: 'Change your password (current one required); ends your other sessions',
          request: { body: jsonBody(PasswordChangeBody) },
          responses: {
            200: jsonResponse(SessionsRevoked, 'Password changed'),
            ...errorResponses('validation_error', 'conflict', 'rate_limited'),
          },
        }),
      ),
      async (c) => {
        const p = c.var.principal;
        return c.json(await changePassword(c.env, c.var.db, requestMeta(c), p.userId, sessionOf(p), c.req.valid('json')), 200);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/password/forgot',
        operationId: 'forgotPassword',
        tags: ['passwords'],
        security: [],
        summary: 'Request a password reset token',
        description:
          'Always answers 202 with the same body, whether or not the account exists. The token is valid for 30 minutes and works once. Until the notification layer exists it is written to the log outside production, and not delivered in production.',
        request: { body: jsonBody(PasswordForgotBody) },
        responses: { 202: jsonResponse(Accepted, 'Accepted'), ...errorResponses('validation_error', 'rate_limited') },
      }),
      async (c) => {
        const body = c.req.valid('json');
        const defer = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
        await requestPasswordReset(c.env, c.var.db, requestMeta(c), body.username ?? body.email ?? '', defer, mail);
        return c.json({ message: FORGOT_ANSWER }, 202);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/password/reset',
        operationId: 'resetPassword',
        tags: ['passwords'],
        security: [],
        summary: 'Set a new password with a reset token; ends every session of the account',
        request: { body: jsonBody(PasswordResetBody) },
        responses: { 200: jsonResponse(SessionsRevoked, 'Password set'), ...errorResponses('validation_error') },
      }),
      async (c) => c.json(await resetPassword(c.env, c.var.db, requestMeta(c), c.req.valid('json')), 200),
    );
