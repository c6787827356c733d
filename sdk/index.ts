/**
 * The typed client of Document Workflow Chain: `hono/client` over the app's own route types
 * (`AppType`), so every path, parameter, body and answer is checked by TypeScript against the
 * deployment's code, plus what a raw client lacks: credentials with a token refresh, list
 * pagination and run following. docs/sdk.md shows it in use.
 *
 * @example
 * import { createClient } from 'document-workflow-chain/sdk';
 * const dwc = createClient({ baseUrl: 'http://localhost:8787', credentials: { apiKey: process.env.DWC_API_KEY! } });
 * const res = await dwc.api.workflows.$get({ query: { tag: 'marketing' } });
 * for await (const wf of dwc.workflows()) console.log(wf.id, wf.name);
 */
import { hc } from 'hono/client';
import type { AppType } from '../src/app';
import { DwcError, followRun, type Page, paginate, type RunEvent, Session, type SessionOptions } from './core';

/** The app's type, for `hc<AppType>()` from `hono/client` directly. */
export type { AppType } from '../src/app';
export { type Credentials, DwcError, followRun, type Page, paginate, type RunEvent, Session, type SessionOptions } from './core';

/** The `/api/v3` routes, typed. */
function typedRoutes(session: Session) {
  return hc<AppType>(session.baseUrl, { fetch: session.fetch }).api.v3;
}

type Routes = ReturnType<typeof typedRoutes>;
type WorkflowQuery = NonNullable<Parameters<Routes['workflows']['$get']>[0]>['query'];
export type WorkflowSummary =
  Awaited<ReturnType<Awaited<ReturnType<Routes['workflows']['$get']>>['json']>> extends infer R
    ? R extends Page<infer T>
      ? T
      : never
    : never;

export type Client = {
  session: Session;
  /** Every `/api/v3` route, typed: `api.workflows[':id'].$get({ param: { id: '1' } })`. */
  api: Routes;
  /** Every workflow matching the filters, page after page (the list's own keyset cursors). */
  workflows(query?: Omit<WorkflowQuery, 'cursor'>): AsyncGenerator<WorkflowSummary>;
  /** A run's events until it ends (SSE, resumed after the last event if the stream drops). */
  followRun(workflowId: number, runId: number, opts?: { after?: number; signal?: AbortSignal }): AsyncGenerator<RunEvent>;
};

export function createClient(opts: SessionOptions): Client {
  const session = new Session(opts);
  const api = typedRoutes(session);
  return {
    session,
    api,
    workflows: (query = {}) =>
      paginate(async (cursor) => {
        const res = await api.workflows.$get({ query: { ...query, ...(cursor ? { cursor } : {}) } });
        if (res.status !== 200) throw await DwcError.from(res);
        return (await res.json()) as Page<WorkflowSummary>;
      }),
    followRun: (workflowId, runId, o) => followRun(session, workflowId, runId, o),
  };
}
