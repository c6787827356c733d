/**
 * The SDK's runtime, free of the app's types so that any JavaScript runtime with `fetch` can use
 * it (Node 20+, browsers, Workers) and the CLI can build on it: authenticated requests with a
 * token refresh, error answers as exceptions, a pagination iterator and a run follower.
 */

/** Credentials: an API key (sent as X-API-Key), or an access token with the refresh token that renews it. */
export type Credentials = { apiKey: string } | { accessToken: string; refreshToken?: string | undefined } | null;

export type SessionOptions = {
  baseUrl: string;
  credentials?: Credentials;
  /** Called with new tokens after each refresh, to store them (refresh tokens rotate: an old one is spent). */
  onTokens?: (tokens: { accessToken: string; refreshToken: string }) => void | Promise<void>;
  /** Defaults to the global fetch; tests pass the worker's. */
  fetch?: (input: Request) => Promise<Response>;
};

/** A failed request: the API's error shape (`{error: {code, message, details, requestId}}`) as an exception. */
export class DwcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'DwcError';
  }

  static async from(res: { status: number; text(): Promise<string> }): Promise<DwcError> {
    const text = await res.text();
    try {
      const { error } = JSON.parse(text) as { error: { code: string; message: string; details?: unknown; requestId?: string } };
      return new DwcError(res.status, error.code, error.message, error.details, error.requestId);
    } catch {
      return new DwcError(res.status, 'http_error', `HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
  }
}

/**
 * Authenticated fetch. With a token pair, a 401 triggers one refresh and one retry; concurrent
 * requests share that refresh, because refresh tokens rotate and presenting a spent one revokes
 * the whole session.
 */
export class Session {
  readonly baseUrl: string;
  private credentials: Credentials;
  private refreshing: Promise<boolean> | null = null;
  private readonly send: (input: Request) => Promise<Response>;

  constructor(private readonly opts: SessionOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.credentials = opts.credentials ?? null;
    this.send = opts.fetch ?? ((r) => fetch(r));
  }

  /** The fetch that hono/client and the helpers use: adds credentials, refreshes once on 401. */
  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const res = await this.send(this.authorize(request.clone()));
    if (res.status !== 401 || !this.canRefresh()) return res;
    if (!(await this.refresh())) return res;
    return this.send(this.authorize(request));
  };

  /** A JSON request; a non-2xx answer is thrown as DwcError. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await DwcError.from(res);
    return (res.status === 204 ? null : await res.json()) as T;
  }

  private authorize(req: Request): Request {
    const c = this.credentials;
    if (c && 'apiKey' in c) req.headers.set('x-api-key', c.apiKey);
    else if (c) req.headers.set('authorization', `Bearer ${c.accessToken}`);
    return req;
  }

  private canRefresh(): boolean {
    return !!this.credentials && 'refreshToken' in this.credentials && !!this.credentials.refreshToken;
  }

  private refresh(): Promise<boolean> {
    this.refreshing ??= (async () => {
      const c = this.credentials as { accessToken: string; refreshToken: string };
      const res = await this.send(
        new Request(`${this.baseUrl}/api/v3/auth/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: c.refreshToken }),
        }),
      );
      if (!res.ok) return false;
      const t = (await res.json()) as { access_token: string; refresh_token: string };
      this.credentials = { accessToken: t.access_token, refreshToken: t.refresh_token };
      await this.opts.onTokens?.({ accessToken: t.access_token, refreshToken: t.refresh_token });
      return true;
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }
}

/** A page as every list endpoint answers it. */
export type Page<T> = { items: T[]; next_cursor: string | null };

/**
 * Every item of a keyset-paginated list, fetching pages as the loop asks for them.
 *
 * @example
 * for await (const wf of paginate((cursor) => session.json('GET', `/api/v3/workflows${cursor ? `?cursor=${cursor}` : ''}`))) …
 */
export async function* paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    yield* p.items;
    cursor = p.next_cursor ?? undefined;
  } while (cursor);
}

/** An event of a run's stream (`RunEvent` in the OpenAPI document). */
export type RunEvent = { seq: number; type: string; at: number; node_id: string | null; data: Record<string, unknown> };

const TERMINAL = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);

/** Server-Sent Events frames from a byte stream. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<RunEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) yield JSON.parse(data) as RunEvent;
    }
  }
}

/**
 * A run's events from the start (or after `after`) until it ends, over its SSE stream. The stream
 * closes when the run's object is evicted as well as when the run ends; then it is opened again
 * after the last event seen (the server replays from its stored log, so nothing is missed or
 * repeated), up to `maxReconnects` times in a row without progress.
 */
export async function* followRun(
  session: Session,
  workflowId: number,
  runId: number,
  opts: { after?: number; maxReconnects?: number; signal?: AbortSignal } = {},
): AsyncGenerator<RunEvent> {
  let after = opts.after ?? 0;
  let idle = 0;
  while (idle <= (opts.maxReconnects ?? 5)) {
    const res = await session.fetch(`${session.baseUrl}/api/v3/workflows/${workflowId}/runs/${runId}/stream?after=${after}`, {
      headers: { accept: 'text/event-stream' },
      signal: opts.signal ?? null,
    });
    if (!res.ok || !res.body) throw res.ok ? new DwcError(res.status, 'http_error', 'empty stream') : await DwcError.from(res);
    let progressed = false;
    for await (const e of sseEvents(res.body)) {
      if (e.seq <= after) continue;
      after = e.seq;
      progressed = true;
      yield e;
      if (TERMINAL.has(e.type)) return;
    }
    idle = progressed ? 0 : idle + 1;
    if (!progressed) await new Promise((r) => setTimeout(r, 200 * idle));
  }
  throw new DwcError(0, 'stream_ended', `the stream of run ${runId} kept closing before the run ended`);
}
