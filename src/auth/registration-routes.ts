import { createRoute, z } from '@hono/zod-openapi';
import { ADMINS, ANY_ROLE } from '../lib/access';
import { requestMeta } from '../lib/context';
import { ApiError } from '../lib/errors';
import { createRouter, errorResponses, IdParam, jsonBody, jsonResponse, withAccess } from '../lib/openapi';
import { decodeCursor, PageQuery, pageOf, toPage } from '../lib/pagination';
import type { SystemMail } from './credentials';
import { createInvite, listInvites, publicInvite, revokeInvite } from './invites';
import {
  bootstrapAdmin,
  checkBootstrapSecret,
  registerAccount,
  RegistrationSettings,
  registrationSettings,
  saveRegistrationSettings,
} from './registration';
import {
  Accepted,
  BootstrapBody,
  BootstrapHeader,
  InviteCreateBody,
  InviteCreated,
  InviteSchema,
  RegisterBody,
  RegistrationPending,
  UserSchema,
  VerifyEmailBody,
} from './schemas';
import { getUser, publicUser } from './users';
import { confirmEmail, requestEmailVerification } from './verification';

const admin = { roles: ADMINS, scope: 'users:admin' } as const;

// Built from the shape, not `.extend`: the document would render an allOf with the closed request schema, which no view passes.
const RegistrationSettingsView = z
  .object({
    ...RegistrationSettings.shape,
    source: z.enum(['default', 'saved']).openapi({ description: "`default`: nothing saved yet, the environment's defaults apply" }),
    email_configured: z.boolean().openapi({ description: 'Whether the service can send email (needed for email verification to apply)' }),
  })
  .openapi('RegistrationSettingsView');

/**
 * Creating accounts, mounted at /api/v3/auth: registration under the administrator's policy, the
 * first administrator's bootstrap, email verification, and the policy and invitations themselves.
 * `mail` is the system mailer (src/app.ts passes notifications').
 */
export const registrationRoutes = (mail: SystemMail) =>
  createRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/register',
        operationId: 'register',
        tags: ['auth'],
        security: [],
        summary: 'Register an account (under the registration policy; never as admin)',
        description:
          'What happens depends on the policy an administrator sets (`GET /api/v3/auth/registration`): `open` registers anyone with the default role; `invite` needs an `invite_token`, whose role the account gets; `closed` refuses everyone. With email verification on (the production default) an open registration answers 202 with the same message whatever the outcome, and the account can sign in once its address is confirmed. Passwords are checked with zxcvbn and rejected with reasons.',
        request: { body: jsonBody(RegisterBody) },
        responses: {
          201: jsonResponse(UserSchema, 'Registered'),
          202: jsonResponse(RegistrationPending, 'Email verification: check the inbox'),
          ...errorResponses('validation_error', 'forbidden', 'conflict', 'rate_limited'),
        },
      }),
      async (c) => {
        const defer = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
        const result = await registerAccount(c.env, c.var.db, requestMeta(c), c.req.valid('json'), mail, defer);
        return result.kind === 'created' ? c.json(publicUser(result.user), 201) : c.json({ message: result.message }, 202);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/bootstrap',
        operationId: 'bootstrapAdmin',
        tags: ['auth'],
        security: [],
        summary: "Create the first administrator with the deployment's BOOTSTRAP_SECRET (works once)",
        description:
          'Works only while the service has no administrator, and only with the `X-Bootstrap-Secret` header equal to the `BOOTSTRAP_SECRET` secret (`wrangler secret put BOOTSTRAP_SECRET`). See docs/api/auth.md "The first administrator" for the alternative with `wrangler d1 execute`.',
        request: { headers: BootstrapHeader, body: jsonBody(BootstrapBody) },
        responses: {
          201: jsonResponse(UserSchema, 'The first administrator'),
          ...errorResponses('validation_error', 'forbidden', 'conflict', 'rate_limited', 'service_unavailable'),
        },
      }),
      async (c) => {
        await checkBootstrapSecret(c.env, c.req.valid('header')['x-bootstrap-secret']);
        return c.json(publicUser(await bootstrapAdmin(c.env, c.var.db, requestMeta(c), c.req.valid('json'))), 201);
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/email/verify',
        operationId: 'verifyEmail',
        tags: ['auth'],
        security: [],
        summary: 'Confirm an email address with the token mailed to it',
        request: { body: jsonBody(VerifyEmailBody) },
        responses: { 204: { description: 'Address confirmed' }, ...errorResponses('validation_error', 'rate_limited') },
      }),
      async (c) => {
        await confirmEmail(c.var.db, requestMeta(c), c.req.valid('json').token);
        return c.newResponse(null, 204);
      },
    )
    .openapi(
      createRoute(
        withAccess(
          { roles: ANY_ROLE },
          {
            method: 'post',
            path: '/email/verification',
            operationId: 'requestEmailVerification',
            tags: ['auth'],
            summary: 'Mail yourself a token that confirms your address',
            responses: {
              202: jsonResponse(Accepted, 'Sent'),
              ...errorResponses('conflict', 'rate_limited', 'service_unavailable'),
            },
          },
        ),
      ),
      async (c) => {
        const user = await getUser(c.var.db, c.var.principal.userId);
        if (!user) throw new ApiError('unauthorized', 'User no longer exists');
        await requestEmailVerification(c.env, c.var.db, requestMeta(c), user, mail);
        return c.json({ message: 'A verification token is on its way to your address. It is valid for 24 hours and works once.' }, 202);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'get',
          path: '/registration',
          operationId: 'getRegistrationSettings',
          tags: ['users'],
          summary: 'The registration policy: mode, the role of open registrations, email verification (admin)',
          responses: { 200: jsonResponse(RegistrationSettingsView, 'The policy in force') },
        }),
      ),
      async (c) => {
        const settings = await registrationSettings(c.env, c.var.db);
        return c.json({ ...settings, email_configured: await mail.configured(c.env, c.var.db) }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'put',
          path: '/registration',
          operationId: 'setRegistrationSettings',
          tags: ['users'],
          summary: 'Set the registration policy (admin)',
          request: { body: jsonBody(RegistrationSettings) },
          responses: { 200: jsonResponse(RegistrationSettingsView, 'The policy now in force'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        await saveRegistrationSettings(c.var.db, requestMeta(c), c.req.valid('json'));
        const settings = await registrationSettings(c.env, c.var.db);
        return c.json({ ...settings, email_configured: await mail.configured(c.env, c.var.db) }, 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'post',
          path: '/invites',
          operationId: 'createInvite',
          tags: ['users'],
          summary: 'Invite someone to register, as editor or viewer (admin); the token is shown once',
          request: { body: jsonBody(InviteCreateBody) },
          responses: { 201: jsonResponse(InviteCreated, 'Created'), ...errorResponses('validation_error') },
        }),
      ),
      async (c) => {
        const { token, row } = await createInvite(c.var.db, requestMeta(c), c.req.valid('json'));
        return c.json({ ...publicInvite(row), token }, 201);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'get',
          path: '/invites',
          operationId: 'listInvites',
          tags: ['users'],
          summary: 'Invitations, newest first (admin)',
          request: { query: PageQuery },
          responses: {
            200: jsonResponse(pageOf(InviteSchema, 'InvitePage'), 'Invitations'),
            ...errorResponses('validation_error', 'bad_request'),
          },
        }),
      ),
      async (c) => {
        const { limit, cursor } = c.req.valid('query');
        return c.json(toPage(await listInvites(c.var.db, limit, decodeCursor(cursor)), limit, publicInvite), 200);
      },
    )
    .openapi(
      createRoute(
        withAccess(admin, {
          method: 'delete',
          path: '/invites/{id}',
          operationId: 'revokeInvite',
          tags: ['users'],
          summary: 'Revoke an unused invitation (admin)',
          request: { params: IdParam },
          responses: { 204: { description: 'Revoked' }, ...errorResponses('validation_error', 'not_found') },
        }),
      ),
      async (c) => {
        await revokeInvite(c.var.db, requestMeta(c), c.req.valid('param').id);
        return c.newResponse(null, 204);
      },
    );
