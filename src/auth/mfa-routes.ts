import { createRoute } from '@hono/zod-openapi';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { confirmPassword } from './credentials';
import { completeMfaSignIn } from './login';
import { getCookie } from 'hono/cookie';
import { DEVICE_COOKIE, deviceCookie } from './devices';
import {
  confirmEnrollment,
  disableMfa,
  invalidCode,
  mfaEnabled,
  mfaStatus,
  regenerateRecoveryCodes,
  startEnrollment,
  useSecondFactor,
} from './mfa';
import { ANY_ROLE } from '../lib/access';
import { MfaCodeBody, MfaDisableBody, MfaEnrollment, MfaStatus, MfaVerifyBody, RecoveryCodes, TokenResponse } from './schemas';
import { getUser } from './users';
import { requestMeta } from '../lib/context';

/*
 * TOTP second factor, mounted at /api/v3/auth/mfa. Managing it is for signed-in sessions only
 * (API keys are refused: a key must not be able to switch its owner's second factor off).
 */
const sessionOnly = { roles: ANY_ROLE };
const mfaNotEnabled = () => new ApiError('conflict', 'MFA is not enabled');

export const mfaRoutes = createRouter()
  .openapi(
    createRoute(
      withAccess(sessionOnly, {
        method: 'get',
        path: '/mfa',
        operationId: 'getMfaStatus',
        tags: ['mfa'],
        summary: 'Whether MFA is enabled, and how many recovery codes are left',
        responses: { 200: jsonResponse(MfaStatus, 'MFA status') },
      }),
    ),
    async (c) => c.json(await mfaStatus(c.var.db, c.var.principal.userId), 200),
  )
  .openapi(
    createRoute(
      withAccess(sessionOnly, {
        method: 'post',
        path: '/mfa/enroll',
        operationId: 'enrollMfa',
        tags: ['mfa'],
        summary: 'Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code',
        description:
          'Scan the QR code (or enter the secret) in an authenticator app, then confirm with a code from it. Until confirmed, MFA is not enforced and enrolling again replaces the secret. Refused while MFA is enabled.',
        responses: { 201: jsonResponse(MfaEnrollment, 'Enrolment started'), ...errorResponses('conflict') },
      }),
    ),
    async (c) => {
      const p = c.var.principal;
      return c.json(await startEnrollment(c.env, c.var.db, requestMeta(c), { id: p.userId, username: p.username }), 201);
    },
  )
  .openapi(
    createRoute(
      withAccess(sessionOnly, {
        method: 'post',
        path: '/mfa/confirm',
        operationId: 'confirmMfa',
        tags: ['mfa'],
        summary: 'Confirm enrolment with a first code; answers the recovery codes once and ends your other sessions',
        request: { body: jsonBody(MfaCodeBody) },
        responses: { 200: jsonResponse(RecoveryCodes, 'MFA enabled'), ...errorResponses('validation_error', 'conflict', 'rate_limited') },
      }),
    ),
    async (c) => {
      const p = c.var.principal;
      if (p.kind !== 'session') throw new ApiError('forbidden', 'Sign in to do this');
      const out = await confirmEnrollment(c.env, c.var.db, requestMeta(c), p.userId, p.sessionId, c.req.valid('json').code);
      return c.json({ recovery_codes: out.codes, sessions_revoked: out.sessionsRevoked }, 200);
    },
  )
  .openapi(
    createRoute(
      withAccess(sessionOnly, {
        method: 'post',
        path: '/mfa/disable',
        operationId: 'disableMfa',
        tags: ['mfa'],
        summary: 'Disable MFA: needs the password and a current code or a recovery code',
        request: { body: jsonBody(MfaDisableBody) },
        responses: {
          204: { description: 'MFA disabled; recovery codes deleted' },
          ...errorResponses('validation_error', 'conflict', 'rate_limited'),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const meta = requestMeta(c);
      const body = c.req.valid('json');
      const user = await getUser(db, c.var.principal.userId);
      if (!user) throw new ApiError('unauthorized', 'User no longer exists');
      if (!(await mfaEnabled(db, user.id))) throw mfaNotEnabled();
      await confirmPassword(c.env, db, meta, user, body.password, 'password');
      if (!(await useSecondFactor(c.env, db, meta, user.id, body))) throw invalidCode();
      await disableMfa(c.env, db, meta, user.id);
      return c.newResponse(null, 204);
    },
  )
  .openapi(
    createRoute(
      withAccess(sessionOnly, {
        method: 'post',
        path: '/mfa/recovery-codes',
        operationId: 'regenerateRecoveryCodes',
        tags: ['mfa'],
        summary: 'Replace all recovery codes (needs a current code); answers the new ones once',
        request: { body: jsonBody(MfaCodeBody) },
        responses: {
          200: jsonResponse(RecoveryCodes, 'New recovery codes'),
          ...errorResponses('validation_error', 'conflict', 'rate_limited'),
        },
      }),
    ),
    async (c) => {
      const db = c.var.db;
      const meta = requestMeta(c);
      const userId = c.var.principal.userId;
      if (!(await mfaEnabled(db, userId))) throw mfaNotEnabled();
      if (!(await useSecondFactor(c.env, db, meta, userId, { code: c.req.valid('json').code }))) throw invalidCode();
      return c.json({ recovery_codes: await regenerateRecoveryCodes(db, meta, userId) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: 'post',
      path: '/mfa/verify',
      operationId: 'verifyMfa',
      tags: ['mfa'],
      security: [],
      summary: 'Second step of sign-in: exchange the challenge and a code for tokens',
      description: `Send the \`challenge_token\` that \`POST /login\` answered with \`mfa_required: true\`, with either a current \`code\` or one \`recovery_code\`. A challenge lives 5 minutes, allows 5 tries and yields one session.`,
      request: { body: jsonBody(MfaVerifyBody) },
      responses: { 200: jsonResponse(TokenResponse, 'Signed in'), ...errorResponses('validation_error', 'unauthorized', 'rate_limited') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const device_token = body.device_token ?? getCookie(c, DEVICE_COOKIE);
      const out = await completeMfaSignIn(c.env, c.var.db, requestMeta(c), { ...body, device_token });
      c.header('Set-Cookie', deviceCookie(out.device_token));
      return c.json(out, 200);
    },
  );
