import { z } from '@hono/zod-openapi';
import { ROLES, SELF_SERVICE_ROLES } from '../db/schema';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { SCOPES } from '../lib/access';
import { anyOfRequired, oneOfRequired } from '../lib/openapi';

export const UserSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    email: z.string(),
    full_name: z.string().nullable(),
    role: z.enum(ROLES),
    email_verified: z.boolean().openapi({ description: 'Whether the owner confirmed the address (POST /api/v3/auth/email/verify)' }),
    created_at: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('User');

export const RegisterBody = z
  .strictObject({
    username: z
      .string()
      .min(3)
      .max(32)
      .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
      .openapi({ example: 'ada' }),
    email: z.email().max(254).openapi({ example: 'ada@example.com' }),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ example: 'correct horse battery staple' }),
    full_name: z.string().min(1).max(100).optional().openapi({ example: 'Ada Lovelace' }),
    invite_token: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'An invitation (`POST /api/v3/auth/invites`): needed when registration is by invitation; gives its role' }),
  })
  .openapi('RegisterRequest');

/** The first administrator's account: the same fields as a registration, without an invitation. */
export const BootstrapBody = RegisterBody.omit({ invite_token: true }).openapi('BootstrapRequest');

export const BootstrapHeader = z.object({
  'x-bootstrap-secret': z
    .string()
    .min(1)
    .max(500)
    .openapi({ param: { name: 'x-bootstrap-secret', in: 'header' }, description: "The deployment's BOOTSTRAP_SECRET" }),
});

export const RegistrationPending = z
  .object({ message: z.string() })
  .openapi('RegistrationPending', { description: 'The same answer for every open registration with email verification' });

export const VerifyEmailBody = z.strictObject({ token: z.string().min(1).max(100) }).openapi('VerifyEmailRequest');

export const InviteCreateBody = z
  .strictObject({
    email: z.email().max(254).optional().openapi({ description: 'Only this address may use the invite (it then counts as verified)' }),
    role: z
      .enum(SELF_SERVICE_ROLES)
      .openapi({ description: 'The role the invitee gets: editor or viewer (admins are promoted, never invited)' }),
    expires_in_days: z.number().int().min(1).max(90).optional().openapi({ description: 'Default 7' }),
  })
  .openapi('InviteCreateRequest');

export const InviteSchema = z
  .object({
    id: z.number().int(),
    email: z.string().nullable(),
    role: z.enum(SELF_SERVICE_ROLES),
    status: z.enum(['open', 'used', 'revoked', 'expired']),
    created_by: z.number().int().nullable(),
    created_at: z.string(),
    expires_at: z.string(),
    used_at: z.string().nullable(),
    used_by: z.number().int().nullable(),
  })
  .openapi('Invite');

export const InviteCreated = InviteSchema.extend({
  token: z.string().openapi({ description: 'Give this to the invitee (register with `invite_token`). Shown only in this response.' }),
}).openapi('InviteCreated');

const DeviceToken = z.string().min(1).max(200).openapi({
  description:
    'The `device_token` of an earlier sign-in from this device (browsers send it as the `dwc_device` cookie): failures elsewhere then cannot lock this device out',
});

export const LoginBody = z
  .strictObject({
    username: z.string().min(1).max(254).optional().openapi({ description: 'Username or email', example: 'ada' }),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ example: 'correct horse battery staple' }),
    device_token: DeviceToken.optional(),
  })
  .refine((b) => b.username !== undefined || b.email !== undefined, { message: 'username or email is required', path: ['username'] })
  .openapi('LoginRequest', anyOfRequired('username', 'email'));

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Access token lifetime in seconds' }),
    refresh_token: z.string(),
    refresh_expires_in: z.number().int(),
    user: UserSchema,
    device_token: z.string().optional().openapi({
      description: 'Present after a sign-in: send it with later sign-ins from this device (also set as the HttpOnly `dwc_device` cookie)',
    }),
  })
  .openapi('TokenResponse');

export const RefreshBody = z.strictObject({ refresh_token: z.string().min(1).max(200) }).openapi('RefreshRequest');

export const ApiKeySchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    prefix: z.string().openapi({ example: 'dwc_Zk3xY9aB' }),
    scopes: z.array(z.enum(SCOPES)),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

export const ApiKeyCreated = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The key itself. Shown only in this response; store it now.' }),
}).openapi('ApiKeyCreated');

export const ApiKeyCreateBody = z
  .strictObject({
    name: z.string().min(1).max(100).openapi({ example: 'ci pipeline' }),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1)
      .max(SCOPES.length)
      .openapi({ example: ['workflows:read'] }),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .openapi('ApiKeyCreateRequest');

export const RoleBody = z.strictObject({ role: z.enum(ROLES) }).openapi('RoleChangeRequest');

// ---- second factor, sessions and passwords ------------------------------------------------

export const MfaChallengeResponse = z
  .object({
    mfa_required: z.literal(true),
    challenge_token: z.string().openapi({ description: 'Pass to `POST /api/v3/auth/mfa/verify` with a code. Single use.' }),
    expires_in: z.number().int().openapi({ description: 'Seconds until the challenge expires' }),
  })
  .openapi('MfaChallenge');

/** What a password sign-in answers: tokens, or (MFA enabled) a challenge for the second factor. */
export const LoginResponse = z.union([TokenResponse, MfaChallengeResponse]).openapi('LoginResponse');

const TotpCode = z
  .string()
  .length(6)
  .regex(/^\d{6}$/, 'six digits')
  .openapi({ example: '492039', description: 'The current six-digit code from the authenticator app' });
const RecoveryCode = z
  .string()
  .min(8)
  .max(32)
  .openapi({ example: 'k7fq2-m9xta', description: 'One of the recovery codes shown when MFA was enabled' });

/** Exactly one of `code` and `recovery_code`. */
const oneFactor: [(b: { code?: string | undefined; recovery_code?: string | undefined }) => boolean, { message: string; path: string[] }] =
  [(b) => (b.code === undefined) !== (b.recovery_code === undefined), { message: 'give either code or recovery_code', path: ['code'] }];

export const MfaVerifyBody = z
  .strictObject({
    challenge_token: z.string().min(1).max(100),
    code: TotpCode.optional(),
    recovery_code: RecoveryCode.optional(),
    device_token: DeviceToken.optional(),
  })
  .refine(...oneFactor)
  .openapi('MfaVerifyRequest', oneOfRequired('code', 'recovery_code'));
export const MfaDisableBody = z
  .strictObject({ password: z.string().min(1).max(MAX_PASSWORD_LENGTH), code: TotpCode.optional(), recovery_code: RecoveryCode.optional() })
  .refine(...oneFactor)
  .openapi('MfaDisableRequest', oneOfRequired('code', 'recovery_code'));
export const MfaCodeBody = z.strictObject({ code: TotpCode }).openapi('MfaCodeRequest');

export const MfaStatus = z
  .object({
    enabled: z.boolean(),
    pending: z.boolean().openapi({ description: 'Enrolment started but not yet confirmed with a code' }),
    enabled_at: z.string().nullable(),
    recovery_codes_remaining: z.number().int(),
  })
  .openapi('MfaStatus');

export const MfaEnrollment = z
  .object({
    secret: z.string().openapi({ description: 'Base32 TOTP secret, for manual entry in the app' }),
    otpauth_uri: z.string().openapi({ example: 'otpauth://totp/Document%20Workflow%20Chain:ada?secret=…&issuer=…' }),
    qr_svg: z.string().openapi({ description: 'The otpauth URI as a QR code: an `image/svg+xml` data URL, usable as an <img> src' }),
    algorithm: z.literal('SHA1'),
    digits: z.literal(6),
    period: z.literal(30),
  })
  .openapi('MfaEnrollment');

export const RecoveryCodes = z
  .object({
    recovery_codes: z.array(z.string()).openapi({ description: 'Each works once. Shown only in this response; store them now.' }),
    sessions_revoked: z
      .number()
      .int()
      .optional()
      .openapi({ description: 'Confirming MFA ends every other session of yours (they signed in without the second factor)' }),
  })
  .openapi('RecoveryCodes');

export const SessionSchema = z
  .object({
    id: z.string(),
    current: z.boolean().openapi({ description: 'The session this request is made with' }),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: 'Last token refresh' }),
    expires_at: z.string(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
  })
  .openapi('Session');

export const SessionIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '0b7c2b1e-2f59-4d4f-9a55-0d6f8a1c2e3b' }),
});

const NewPassword = z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ example: 'amber-Quarry-whistle-58' });

export const PasswordChangeBody = z
  .strictObject({ current_password: z.string().min(1).max(MAX_PASSWORD_LENGTH), new_password: NewPassword })
  .openapi('PasswordChangeRequest');

export const PasswordForgotBody = z
  .strictObject({
    username: z.string().min(1).max(254).optional().openapi({ description: 'Username or email', example: 'ada' }),
    email: z.string().min(1).max(254).optional(),
  })
  .refine((b) => (b.username === undefined) !== (b.email === undefined), { message: 'give either username or email', path: ['username'] })
  .openapi('PasswordForgotRequest', oneOfRequired('username', 'email'));

export const PasswordResetBody = z
  .strictObject({ token: z.string().min(1).max(100), new_password: NewPassword })
  .openapi('PasswordResetRequest');

export const ReauthenticateBody = z
  .strictObject({
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH).optional(),
    code: TotpCode.optional(),
    recovery_code: RecoveryCode.optional(),
  })
  .refine((b) => [b.password, b.code, b.recovery_code].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of password, code and recovery_code',
    path: ['password'],
  })
  .openapi('ReauthenticateRequest', oneOfRequired('password', 'code', 'recovery_code'));

export const Accepted = z.object({ message: z.string() }).openapi('Accepted');
