import { z } from '@hono/zod-openapi';
import { ROLES } from '../db/schema';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { SCOPES } from './principal';

export const UserSchema = z
  .object({
    id: z.number().int(),
    username: z.string(),
    email: z.string(),
    full_name: z.string().nullable(),
    role: z.enum(ROLES),
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
  })
  .openapi('RegisterRequest');

export const LoginBody = z
  .object({
    username: z.string().min(1).max(254).optional().openapi({ description: 'Username or email', example: 'ada' }),
    email: z.string().min(1).max(254).optional(),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH).openapi({ example: 'correct horse battery staple' }),
  })
  .refine((b) => b.username !== undefined || b.email !== undefined, { message: 'username or email is required', path: ['username'] })
  .openapi('LoginRequest');

export const TokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Access token lifetime in seconds' }),
    refresh_token: z.string(),
    refresh_expires_in: z.number().int(),
    user: UserSchema,
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
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).openapi({ example: ['workflows:read'] }),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .openapi('ApiKeyCreateRequest');

export const RoleBody = z.strictObject({ role: z.enum(ROLES) }).openapi('RoleChangeRequest');

