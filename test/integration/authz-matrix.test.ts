import { beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/lib/access';
import { api, registerAndLogin, unique } from '../helpers';

/*
 * The authorisation matrix: every operation in the OpenAPI document, called by every role with
 * a session and by an API key of every scope, must be admitted or refused (403) exactly as its
 * `x-access` declaration says. Operations without a declaration must be public ones. Path ids
 * point at nothing (999999), so an admitted call ends in 400/404; the few admin operations
 * without ids (pausing the task service, rotating the webhook secret) act only on this file's
 * isolated storage.
 */
type Op = { method: string; path: string; access: { roles: string[]; scope: string | null } | null; status101: boolean };

let ops: Op[] = [];
const sessions: Record<string, string> = {};
const keys: Record<string, string> = {};

beforeAll(async () => {
  const spec = (await api('GET', '/openapi.json')).json as {
    paths: Record<string, Record<string, { 'x-access'?: Op['access']; responses: object }>>;
  };
  ops = Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      access: op['x-access'] ?? null,
      status101: '101' in op.responses,
    })),
  );
  const admin = await registerAndLogin(unique('mxadmin'));
  const editor = await registerAndLogin(unique('mxeditor'));
  const viewer = await registerAndLogin(unique('mxviewer'));
  await api('PATCH', `/api/v3/auth/users/${viewer.user.id}`, { token: admin.token, body: { role: 'viewer' } });
  Object.assign(sessions, { admin: admin.token, editor: editor.token, viewer: viewer.token });
  for (const scope of SCOPES) {
    keys[scope] = (await api('POST', '/api/v3/auth/api-keys', { token: admin.token, body: { name: scope, scopes: [scope] } })).json.key;
  }
});

const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '999999');
const call = (op: Op, auth: { token?: string; apiKey?: string }) =>
  api(op.method, concrete(op.path), { ...auth, direct: true, ...(['POST', 'PUT', 'PATCH'].includes(op.method) ? { body: {} } : {}) });

describe('authorisation matrix', () => {
  it('covers every documented operation', () => {
    expect(ops.length).toBeGreaterThan(40);
    const undeclared = ops.filter((o) => !o.access).map((o) => `${o.method} ${o.path}`);
    // Only sign-up/sign-in, liveness and status, the icon, docs, the console shell, public counters, signed export
    // links and the published bundle schema are open; readiness (/api/v3/health) is declared since issue 17 (finding 9).
    for (const key of undeclared)
      expect(key).toMatch(
        /auth\/(register|bootstrap|email\/verify|login|refresh|mfa\/verify|password\/(forgot|reset))|^GET \/(health|status|favicon\.(svg|ico))$|openapi\.json|\/docs|\/redoc|\/console|\/ws\/stats|automations\/\{automation_id\}\/webhook|exports\/\{id\}\/file|schemas\/workflow-bundle\/\{version\}/,
      );
  });

  it('admits exactly the declared roles with a session, and refuses the rest with 403', async () => {
    const checks = ops
      // Signing out (here or everywhere) would end the sessions the matrix itself uses.
      .filter((o) => o.access && !o.status101 && !/\/logout(-all)?$/.test(o.path))
      .flatMap((op) =>
        Object.entries(sessions).map(async ([role, token]) => {
          const res = await call(op, { token });
          const allowed = op.access!.roles.includes(role);
          const ok = allowed ? ![401, 403, 429].includes(res.status) : res.status === 403;
          return ok ? null : `${op.method} ${op.path} as ${role}: ${res.status} (${allowed ? 'should be admitted' : 'should be 403'})`;
        }),
      );
    expect((await Promise.all(checks)).filter(Boolean)).toEqual([]);
  });

  it('admits an API key only on operations that declare its scope', async () => {
    const checks = ops
      .filter((o) => o.access && !o.status101)
      .flatMap((op) =>
        Object.entries(keys).map(async ([scope, key]) => {
          const res = await call(op, { apiKey: key });
          const allowed = op.access!.scope === scope && op.access!.roles.includes('admin');
          const ok = allowed ? ![401, 403, 429].includes(res.status) : res.status === 403;
          return ok ? null : `${op.method} ${op.path} with key[${scope}]: ${res.status}`;
        }),
      );
    expect((await Promise.all(checks)).filter(Boolean)).toEqual([]);
  }, 240_000);

  it('refuses every declared operation without credentials (401)', async () => {
    const checks = ops
      .filter((o) => o.access && !o.status101)
      .map(async (op) => {
        const res = await call(op, {});
        return res.status === 401 ? null : `${op.method} ${op.path}: ${res.status}`;
      });
    expect((await Promise.all(checks)).filter(Boolean)).toEqual([]);
  });
});
