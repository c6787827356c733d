import type { RequestIdVariables } from 'hono/request-id';
import type { Principal } from '../auth/principal';
import type { DB } from '../db/client';

/** Hono environment shared by every router: bindings plus per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: RequestIdVariables & {
    /** drizzle over env.DB, built once per request. */
    db: DB;
    /** Set by `authenticate()`; absent on public routes. */
    principal: Principal;
  };
};
