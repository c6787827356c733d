/**
 * /console/api.js: the session and every API call. Tokens live in this tab's sessionStorage
 * (gone when the tab closes, never sent to another origin: the page's CSP only allows 'self').
 * A 401 triggers one refresh with the rotating refresh token, shared by concurrent callers
 * because presenting the same refresh token twice revokes the whole session.
 */
export default String.raw`
const STORE_KEY = 'dwc.console.session';
const listeners = new Set();
let session = readStored();
let refreshing = null;

function readStored() {
  const raw = sessionStorage.getItem(STORE_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw);
    return value && typeof value.access_token === 'string' ? value : null;
  } catch (err) {
    console.warn('Ignoring an unreadable stored session', err);
    return null;
  }
}

function save(next, reason) {
  session = next;
  if (next) sessionStorage.setItem(STORE_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(STORE_KEY);
  for (const fn of listeners) fn(reason);
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = body && body.error;
    super(error && error.message ? error.message : 'Request failed with status ' + status);
    this.name = 'ApiError';
    this.status = status;
    this.code = error ? error.code : 'unknown';
    this.details = error ? error.details : undefined;
  }
}

export const signedIn = () => session !== null;
export const currentUser = () => (session ? session.user : null);
/** fn(reason) runs on sign-in, sign-out and when the session ends on its own. */
export const onSessionChange = (fn) => listeners.add(fn);

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  const type = res.headers.get('content-type') || '';
  return type.includes('json') ? JSON.parse(text) : text;
}

function init(method, body, extra) {
  const headers = Object.assign({ accept: 'application/json' }, extra && extra.headers);
  if (session) headers.authorization = 'Bearer ' + session.access_token;
  const options = { method, headers, signal: extra && extra.signal };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  return options;
}

function refresh() {
  if (!refreshing) {
    const token = session && session.refresh_token;
    refreshing = (async () => {
      if (!token) return false;
      const res = await fetch('/api/v3/auth/refresh', init('POST', { refresh_token: token }));
      if (!res.ok) {
        save(null, 'expired');
        return false;
      }
      save(await res.json(), 'refreshed');
      return true;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/**
 * fetch() with the session's bearer token. On 401 it refreshes once and repeats the request;
 * if the refresh fails too, the session ends and the console shows the sign-in page.
 */
export async function authedFetch(path, method, body, extra) {
  const res = await fetch(path, init(method || 'GET', body, extra));
  if (res.status !== 401 || !session) return res;
  if (!(await refresh())) return res;
  return fetch(path, init(method || 'GET', body, extra));
}

/** A JSON API call; resolves with the parsed body or throws ApiError with the API's message. */
export async function api(method, path, body, extra) {
  const res = await authedFetch(path, method, body, extra);
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export async function login(username, password) {
  const res = await fetch('/api/v3/auth/login', init('POST', { username, password }));
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data);
  save(data, 'signed-in');
  return data.user;
}

export async function register(username, email, password) {
  const res = await fetch('/api/v3/auth/register', init('POST', { username, email, password }));
  const data = await parse(res);
  if (!res.ok) throw new ApiError(res.status, data);
  return login(username, password);
}

/** Ends the session on the server too, so its refresh token stops working at once. */
export async function logout() {
  if (!session) return;
  const res = await authedFetch('/api/v3/auth/logout', 'POST');
  if (!res.ok && res.status !== 401) console.warn('Sign-out answered ' + res.status);
  save(null, 'signed-out');
}

/** Builds a query string from the defined, non-empty values only. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? '?' + text : '';
}
`;
