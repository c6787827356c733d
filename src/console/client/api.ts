/**
 * /console/api.js: the session and every API call. Tokens live in this tab's sessionStorage
 * (gone when the tab closes, never sent to another origin: the page's CSP only allows 'self').
 * A 401 triggers one refresh with the rotating refresh token, shared by concurrent callers
 * because presenting the same refresh token twice revokes the whole session.
 */
import type { TokenResponse, User } from './api-shapes.js';

export type SessionChange = 'signed-in' | 'signed-out' | 'expired' | 'refreshed';
/** What a caller may add to a request: headers of its own, and a signal that aborts it. */
export type RequestExtra = { headers?: Record<string, string>; signal?: AbortSignal };

const STORE_KEY = 'dwc.console.session';
const listeners = new Set<(reason: SessionChange) => void>();
let session = readStored();
let refreshing: Promise<boolean> | null = null;

function isSession(value: unknown): value is TokenResponse {
  return typeof value === 'object' && value !== null && 'access_token' in value && typeof value.access_token === 'string';
}

function readStored(): TokenResponse | null {
  const raw = sessionStorage.getItem(STORE_KEY);
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return isSession(value) ? value : null;
  } catch (err) {
    console.warn('Ignoring an unreadable stored session', err);
    return null;
  }
}

function save(next: TokenResponse | null, reason: SessionChange): void {
  session = next;
  if (next) sessionStorage.setItem(STORE_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(STORE_KEY);
  for (const fn of listeners) fn(reason);
}

/** The API's one error shape, {error: {code, message, details?, requestId}} (src/lib/errors.ts). */
function errorOf(body: unknown): { code: string; message: string; details: unknown } | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = body.error;
  if (typeof error !== 'object' || error === null) return null;
  return {
    code: 'code' in error && typeof error.code === 'string' ? error.code : 'unknown',
    message: 'message' in error && typeof error.message === 'string' ? error.message : '',
    details: 'details' in error ? error.details : undefined,
  };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Machine-readable detail; zod's issues for a validation error. */
  readonly details: unknown;

  constructor(status: number, body: unknown) {
    const error = errorOf(body);
    super(error?.message ? error.message : `Request failed with status ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error ? error.code : 'unknown';
    this.details = error?.details;
  }
}

export const signedIn = (): boolean => session !== null;
export const currentUser = (): User | null => (session ? session.user : null);
/** fn(reason) runs on sign-in, sign-out and when the session ends on its own. */
export const onSessionChange = (fn: (reason: SessionChange) => void): void => {
  listeners.add(fn);
};

async function parse(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? JSON.parse(text) : text;
}

/**
 * The parsed body of a successful answer, typed as the API documents it for that path (see
 * api-shapes.d.ts); a failure throws ApiError with the API's message.
 */
async function answer<T>(res: Response): Promise<T> {
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data);
  return data as T;
}

function init(method: string, body?: unknown, extra?: RequestExtra): RequestInit {
  const headers: Record<string, string> = { accept: 'application/json', ...extra?.headers };
  if (session) headers.authorization = `Bearer ${session.access_token}`;
  const options: RequestInit = { method, headers, signal: extra?.signal };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  return options;
}

function refresh(): Promise<boolean> {
  if (!refreshing) {
    const token = session?.refresh_token;
    refreshing = (async () => {
      if (!token) return false;
      const res = await fetch('/api/v3/auth/refresh', init('POST', { refresh_token: token }));
      if (!res.ok) {
        save(null, 'expired');
        return false;
      }
      save(await answer<TokenResponse>(res), 'refreshed');
      return true;
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/**
 * fetch() with the session's bearer token. On 401 it refreshes once and repeats the request;
 * if the refresh fails too, the session ends and the console shows the sign-in page.
 */
export async function authedFetch(path: string, method = 'GET', body?: unknown, extra?: RequestExtra): Promise<Response> {
  const res = await fetch(path, init(method, body, extra));
  if (res.status !== 401 || !session) return res;
  if (!(await refresh())) return res;
  return fetch(path, init(method, body, extra));
}

/** A JSON API call; resolves with the parsed body or throws ApiError with the API's message. */
export async function api<T>(method: string, path: string, body?: unknown, extra?: RequestExtra): Promise<T> {
  return answer<T>(await authedFetch(path, method, body, extra));
}

export async function login(username: string, password: string): Promise<User> {
  const data = await answer<TokenResponse>(await fetch('/api/v3/auth/login', init('POST', { username, password })));
  save(data, 'signed-in');
  return data.user;
}

export async function register(username: string, email: string, password: string): Promise<User> {
  await answer<unknown>(await fetch('/api/v3/auth/register', init('POST', { username, email, password })));
  return login(username, password);
}

/** Ends the session on the server too, so its refresh token stops working at once. */
export async function logout(): Promise<void> {
  if (!session) return;
  const res = await authedFetch('/api/v3/auth/logout', 'POST');
  if (!res.ok && res.status !== 401) console.warn(`Sign-out answered ${res.status}`);
  save(null, 'signed-out');
}

/** Builds a query string from the defined, non-empty values only. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
