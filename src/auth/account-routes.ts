import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import { changePassword, reauthenticate, requestPasswordReset, resetPassword, type SystemMail } from './credentials';
import { ANY_ROLE, type Principal } from '../lib/access';
import {
  Accepted,
  PasswordChangeBody,
  PasswordForgotBody,
  PasswordResetBody,
  ReauthenticateBody,
  SessionIdParam,
  SessionSchema,
} from './schemas';
import { listActiveSessions, publicSession, REAUTH_WINDOW_SECONDS, revokeAllSessions, revokeSession } from './sessions';
import { publishEvents } from '../lib/events';
import { toIso } from '../lib/time';
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

const SessionsRevoked = z
  .object({
    sessions_revoked: z.number().int(),
    api_keys_revoked: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Signing out everywhere and a password reset also revoke every API key' }),
  })
  .openapi('SessionsRevoked');
const Reauthenticated = z
  .object({
    authenticated_at: z.string(),
    valid_until: z.string().openapi({ description: 'Until when actions that need a recent sign-in are allowed' }),
  })
  .openapi('Reauthenticated');
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
          summary: 'Sign out everywhere: end every session of yours, this one included, and revoke every API key of yours',
          description:
            'Your API keys are revoked too (a key made with a stolen session must not outlive this); you are told in your inbox and, if the service can send email, by mail.',
          responses: { 200: jsonResponse(SessionsRevoked, 'Sessions ended, keys revoked') },
        }),
      ),
      async (c) => {
        const out = await revokeAllSessions(c.var.db, requestMeta(c), c.var.principal.userId);
        c.executionCtx.waitUntil(publishEvents(c.env));
        return c.json(out, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(sessionOnly, {
          method: 'post',
          path: '/reauthenticate',
          operationId: 'reauthenticate',
          tags: ['sessions'],
          summary: 'Prove a factor again (password, or with MFA a code) before an action that needs a recent sign-in',
          description: `Creating an API key needs a sign-in or re-authentication of this session within the last ${REAUTH_WINDOW_SECONDS / 60} minutes. Send exactly one of \`password\`, \`code\` and \`recovery_code\` (the last two only with MFA enabled). Refreshing tokens does not count.`,
          request: { body: jsonBody(ReauthenticateBody) },
          responses: { 200: jsonResponse(Reauthenticated, 'Re-authenticated'), ...errorResponses('validation_error', 'rate_limited') },
        }),
      ),
      async (c) => {
        const p = c.var.principal;
        const at = await reauthenticate(c.env, c.var.db, requestMeta(c), p.userId, sessionOf(p), c.req.valid('json'));
        return c.json({ authenticated_at: toIso(at), valid_until: toIso(at + REAUTH_WINDOW_SECONDS * 1000) }, 200);
      },
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
        summary: 'Set a new password with a reset token; ends every session and revokes every API key of the account',
        request: { body: jsonBody(PasswordResetBody) },
        responses: { 200: jsonResponse(SessionsRevoked, 'Password set'), ...errorResponses('validation_error') },
      }),
      async (c) => {
        const out = await resetPassword(c.env, c.var.db, requestMeta(c), c.req.valid('json'));
        c.executionCtx.waitUntil(publishEvents(c.env));
        return c.json(out, 200);
      },
    );
