import type { RequestIdVariables } from 'hono/request-id';
import type { DB } from '../db/client';

/**
 * Hono environment shared by every router: bindings plus per-request variables. Variables that
 * belong to one feature are declared by that feature on Hono's ContextVariableMap (the signed-in
 * principal: src/auth/middleware.ts), so this module names none of them.
 */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    /** drizzle over env.DB, built once per request. */
    db: DB;
  };
};
