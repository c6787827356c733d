import { createConfig, lintFromString } from '@redocly/openapi-core';
import { beforeAll, describe, expect, it } from 'vitest';

/*
 * The OpenAPI document is generated from the same zod schemas the routes validate with. Here it
 * is linted by Redocly's standard rule set ("recommended", every problem an error), and compared
 * with Hono's own route table, so a route missing from the document fails the build.
 * The app module loads in Node because it imports no Durable Object class.
 */
type App = {
  routes: { method: string; path: string }[];
};
let app: App;
let doc: { paths: Record<string, Record<string, Record<string, unknown>>> };

beforeAll(async () => {
  const appPath = '../../src/app.ts';
  const docsPath = '../../src/docs/routes.ts';
  app = (await import(/* @vite-ignore */ appPath)).app;
  const docs = await import(/* @vite-ignore */ docsPath);
  // What /openapi.json serves: the generated document completed with the shared statuses and headers.
  doc = docs.openApiDocument(app) as typeof doc;
});

describe('OpenAPI document', () => {
  it("passes Redocly's recommended-strict ruleset (every problem an error)", async () => {
    // Liveness, the documentation pages and public counters have no 4xx answer to document, and
    // a WebSocket upgrade answers 101, not 2xx.
    // Two rules are replaced by the tests below, which allow exactly the documented exceptions.
    const lintConfig = await createConfig({
      extends: ['recommended-strict'],
      // Cross-field rules name the enclosing object's properties from inside anyOf/oneOf/not,
      // where this rule looks for them in vain; the test 'cross-field rules name declared
      // properties' below checks those names instead.
      rules: { 'operation-4xx-response': 'off', 'operation-2xx-response': 'off', 'no-required-schema-properties-undefined': 'off' },
    });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config: lintConfig });
    const readable = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} @ ${p.location[0]?.pointer}`);
    expect(readable).toEqual([]);
  });

  it('is OpenAPI 3.1 and documents every route the app serves', () => {
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/\/$/, '') || '/'}`);
    expect(served.length).toBeGreaterThan(15);
    for (const route of served) expect(documented, route).toContain(route);
  });

  it('documents a 4xx response on every operation that can fail on input or access', () => {
    const no4xx = new Set([
      'GET /health',
      'GET /api/v3/health',
      'GET /openapi.json',
      'GET /docs',
      'GET /redoc',
      'GET /api/v3/ws/stats',
      'GET /console',
    ]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        if (no4xx.has(key)) continue;
        expect(
          Object.keys(op.responses as object).some((s) => s.startsWith('4')),
          key,
        ).toBe(true);
      }
    }
  });

  it('documents a 2xx response on every operation except WebSocket upgrades (101)', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const codes = Object.keys(op.responses as object);
        expect(codes.some((s) => s.startsWith('2')) || codes.includes('101'), `${method} ${path}`).toBe(true);
      }
    }
  });

  it('declares the access of every non-public operation as x-access', () => {
    const publicOps = new Set([
      'POST /api/v3/auth/register',
      'POST /api/v3/auth/bootstrap',
      'POST /api/v3/auth/email/verify',
      'POST /api/v3/auth/login',
      'POST /api/v3/auth/refresh',
      'POST /api/v3/auth/mfa/verify',
      'POST /api/v3/auth/password/forgot',
      'POST /api/v3/auth/password/reset',
      'POST /api/v3/security/auth/login',
      'GET /api/v3/ws/stats',
      'POST /api/v3/automations/{automation_id}/webhook',
      // A published JSON Schema: editors and CI fetch it without credentials.
      'GET /api/v3/schemas/workflow-bundle/{version}',
      // A signed download link: the signature is the credential.
      'GET /api/v3/exports/{id}/file',
    ]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        if (!path.startsWith('/api/v3/') || path.startsWith('/api/v3/health') || publicOps.has(key)) continue;
        expect(op['x-access'], key).toMatchObject({ roles: expect.any(Array) });
        expect(op.security, key).toBeDefined();
      }
    }
  });

  it('refuses unknown fields in every JSON request body, so no body can mass-assign (role, owner, id…)', () => {
    const schemas = ((doc as unknown as { components?: { schemas?: Record<string, Schema> } }).components?.schemas ?? {}) as Record<
      string,
      Schema
    >;
    type Schema = {
      $ref?: string;
      type?: string | string[];
      properties?: Record<string, Schema>;
      additionalProperties?: unknown;
      oneOf?: Schema[];
      anyOf?: Schema[];
      allOf?: Schema[];
    };
    const resolve = (s: Schema): Schema => (s.$ref ? resolve(schemas[s.$ref.replace('#/components/schemas/', '')]!) : s);
    const open: string[] = [];
    // A branch without a type is a cross-field rule on the object around it (anyOfRequired and
    // the like, src/lib/openapi.ts), not an object of its own: its `properties` only constrain.
    const walk = (s: Schema, where: string, nested = false) => {
      const r = resolve(s);
      for (const branch of [...(r.oneOf ?? []), ...(r.anyOf ?? []), ...(r.allOf ?? [])]) walk(branch, where, true);
      if (r.type === 'object' || (r.properties && !(nested && r.type === undefined)))
        if (r.additionalProperties !== false) open.push(where);
    };
    let bodies = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const body = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.['application/json'];
        if (!body) continue;
        bodies++;
        walk(body.schema, `${method.toUpperCase()} ${path}`);
      }
    }
    expect(bodies).toBeGreaterThan(20);
    expect(open).toEqual([]);
  });

  it('caps every string, array and record in request bodies and parameters (no unbounded input)', () => {
    type Schema = {
      $ref?: string;
      type?: string | string[];
      enum?: unknown[];
      const?: unknown;
      format?: string;
      pattern?: string;
      maxLength?: number;
      maxItems?: number;
      maxProperties?: number;
      items?: Schema;
      properties?: Record<string, Schema>;
      additionalProperties?: unknown;
      oneOf?: Schema[];
      anyOf?: Schema[];
      allOf?: Schema[];
    };
    const schemas = ((doc as unknown as { components?: { schemas?: Record<string, Schema> } }).components?.schemas ?? {}) as Record<
      string,
      Schema
    >;
    const resolve = (s: Schema): Schema => (s.$ref ? resolve(schemas[s.$ref.replace('#/components/schemas/', '')]!) : s);
    const uncapped: string[] = [];
    const walk = (raw: Schema, where: string, depth = 0) => {
      if (depth > 12) return;
      const s = resolve(raw);
      for (const b of [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])]) walk(b, where, depth + 1);
      const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
      if (types.includes('string') && s.enum === undefined && s.const === undefined && s.maxLength === undefined && !s.format)
        uncapped.push(`${where}: string without maxLength`);
      if (
        (types.includes('integer') || types.includes('number')) &&
        / query \w*(limit|size|count|window|hours|days)\w*$/.test(where) &&
        (s as { maximum?: number }).maximum === undefined
      )
        uncapped.push(`${where}: number without maximum`);
      if (types.includes('array')) {
        if (s.maxItems === undefined) uncapped.push(`${where}: array without maxItems`);
        if (s.items) walk(s.items, `${where}[]`, depth + 1);
      }
      for (const [k, v] of Object.entries(s.properties ?? {})) walk(v, `${where}.${k}`, depth + 1);
      if (s.additionalProperties && typeof s.additionalProperties === 'object')
        walk(s.additionalProperties as Schema, `${where}.*`, depth + 1);
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method.toUpperCase()} ${path}`;
        const body = (op.requestBody as { content?: Record<string, { schema: Schema }> } | undefined)?.content?.['application/json'];
        if (body) walk(body.schema, `${key} body`);
        for (const p of (op.parameters as { name: string; in: string; schema: Schema }[] | undefined) ?? [])
          if (p.in !== 'path') walk(p.schema, `${key} ${p.in} ${p.name}`);
      }
    }
    expect(uncapped).toEqual([]);
  });
});

describe('the statuses and headers the shared middleware adds (src/docs/complete.ts)', () => {
  type Op = { requestBody?: unknown; responses: Record<string, { headers?: Record<string, unknown> }>; 'x-access'?: unknown };
  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Op>).map(([method, op]) => ({ id: `${method.toUpperCase()} ${path}`, op })),
    );

  it('documents 413 and 415 on every operation that takes a body', () => {
    const withBody = operations().filter(({ op }) => op.requestBody !== undefined);
    expect(withBody.length).toBeGreaterThan(60);
    for (const { id, op } of withBody) {
      expect(op.responses['413'], id).toBeDefined();
      expect(op.responses['415'], id).toBeDefined();
    }
  });

  it('documents 429 with Retry-After and the RateLimit fields on every rate-limited operation, and RateLimit on its successes', () => {
    const limited = operations().filter(({ id, op }) => op['x-access'] !== undefined || / \/api\/v3\/auth\/login$/.test(id));
    expect(limited.length).toBeGreaterThan(150);
    expect(limited.map((l) => l.id)).toContain('POST /api/v3/auth/login');
    for (const { id, op } of limited) {
      expect(Object.keys(op.responses['429']?.headers ?? {}), id).toEqual(
        expect.arrayContaining(['Retry-After', 'RateLimit', 'RateLimit-Policy']),
      );
      for (const [status, response] of Object.entries(op.responses))
        if (status.startsWith('2')) expect(Object.keys(response.headers ?? {}), `${id} ${status}`).toContain('RateLimit');
    }
    // Liveness is not rate limited, and says nothing about it.
    expect(doc.paths['/health']!.get!.responses).not.toHaveProperty('429');
  });
});

describe('schemas accept what the server accepts and returns', () => {
  async function validate(pointer: string, value: unknown) {
    const { Validator } = await import('@cfworker/json-schema');
    const validator = new Validator({ $ref: `https://dwc.test/openapi.json#${pointer}` }, '2020-12', false);
    validator.addSchema(doc as never, 'https://dwc.test/openapi.json');
    return validator.validate(value).valid;
  }

  it("POST /security/ip-rules takes the README's body, with or without api_key_id, and nothing unknown", async () => {
    const schema = '/paths/~1api~1v3~1security~1ip-rules/post/requestBody/content/application~1json/schema';
    expect(await validate(schema, { action: 'deny', cidr: '203.0.113.0/24', note: 'scraper' })).toBe(true);
    expect(await validate(schema, { action: 'allow', cidr: '2001:db8::/32', api_key_id: 3 })).toBe(true);
    expect(await validate(schema, { action: 'deny', cidr: '203.0.113.0/24', role: 'admin' })).toBe(false);
  });

  it('has no allOf that nothing can pass: a named schema made nullable, or two closed objects', () => {
    type Node = { allOf?: Node[]; $ref?: string; type?: unknown; additionalProperties?: unknown };
    const schemas = (doc as unknown as { components: { schemas: Record<string, Node> } }).components.schemas;
    const closed = (n: Node) =>
      n.additionalProperties === false || (n.$ref !== undefined && schemas[n.$ref.split('/').pop()!]?.additionalProperties === false);
    const found: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as Node;
      if (Array.isArray(n.allOf)) {
        const nullableRef = n.allOf.some((s) => s.$ref) && n.allOf.some((s) => Array.isArray(s.type) && s.type.includes('null'));
        if (nullableRef || n.allOf.filter(closed).length >= 2) found.push(at);
      }
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`);
    };
    walk(doc, '');
    expect(found).toEqual([]);
  });

  it('PATCH /workflows/{id} says, as the server does, that an empty body changes nothing and is refused', async () => {
    expect(await validate('/components/schemas/WorkflowPatchRequest', {})).toBe(false);
    expect(await validate('/components/schemas/WorkflowPatchRequest', { name: 'Renamed' })).toBe(true);
  });

  it("a task's payload must be its type's: the handlers' schemas are in the document", async () => {
    const task = (task_type: string, payload: unknown) => validate('/components/schemas/TaskSubmit', { name: 't', task_type, payload });
    expect(await task('workflow_run', {})).toBe(false); // workflow_id is required
    expect(await task('workflow_run', { workflow_id: 3, input: { topic: 'bees' } })).toBe(true);
    expect(await task('webhook_call', { workflow_id: 3 })).toBe(false);
    expect(await task('webhook_call', { url: 'https://example.com/hook' })).toBe(true);
    expect(await task('cleanup', {})).toBe(true);
    expect(await task('cleanup', { include: ['tasks', 'tasks', 'runs', 'tasks'] })).toBe(false); // at most 3
    expect(await task('data_processing', { data: Array.from({ length: 10_001 }, () => ({ a: 1 })) })).toBe(false);
  });

  it('DELETE /security/rate-limits/{name} may answer effective: null', async () => {
    const schema = '/paths/~1api~1v3~1security~1rate-limits~1{name}/delete/responses/200/content/application~1json/schema';
    expect(await validate(schema, { deleted: 'custom-burst', effective: null })).toBe(true);
  });
});

describe('patterns', () => {
  it('are ECMA-262 regular expressions as written, with no flags left in the source (a zod /i regex loses its flag)', () => {
    const patterns = new Set<string>();
    JSON.stringify(doc, (key, value) => {
      if (key === 'pattern' && typeof value === 'string') patterns.add(value);
      return value;
    });
    expect(patterns.size).toBeGreaterThan(20);
    for (const p of patterns) {
      expect(() => new RegExp(p, 'u'), p).not.toThrow();
      expect(p, 'a trailing /flags').not.toMatch(/\/[dgimsuvy]+$/);
    }
  });
});

describe('cross-field rules', () => {
  it('name declared properties: every `required` inside an anyOf, oneOf, allOf or not is a property of the object', () => {
    type Schema = {
      properties?: Record<string, unknown>;
      required?: string[];
      anyOf?: Schema[];
      oneOf?: Schema[];
      allOf?: Schema[];
      not?: Schema;
    };
    const schemas = (doc as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas;
    const names = (s: Schema): string[] => [
      ...(s.required ?? []),
      ...[...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])].flatMap(names),
      ...(s.not ? names(s.not) : []),
    ];
    let rules = 0;
    const unknown: string[] = [];
    for (const [name, s] of Object.entries(schemas)) {
      if (!s.properties) continue;
      for (const branch of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? []), ...(s.not ? [s.not] : [])]) {
        rules++;
        for (const n of names(branch)) if (!(n in s.properties)) unknown.push(`${name}: ${n}`);
      }
    }
    expect(rules).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });
});

describe('parameters and byte limits', () => {
  type Param = { name: string; schema?: { type?: unknown } };
  it('no parameter allows null (a URL or header value is text)', () => {
    const nullable = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.values(ops).flatMap((op) =>
        ((op.parameters ?? []) as Param[])
          .filter((p) => JSON.stringify(p.schema?.type ?? '').includes('null'))
          .map((p) => `${path} ${p.name}`),
      ),
    );
    expect(nullable).toEqual([]);
  });

  it('states the body byte cap on request strings long enough to reach it', () => {
    const schemas = (
      doc as unknown as { components: { schemas: Record<string, { properties?: Record<string, { description?: string }> }> } }
    ).components.schemas;
    expect(schemas.DocumentEditRequest!.properties!.content!.description).toContain('MAX_BODY_BYTES');
  });
});
