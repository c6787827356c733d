/**
 * /console/app.js: the entry module. Hash routes (#/workflows/1/runs/2, …) keep every view
 * linkable without server routes; each view gets an AbortSignal that fires when the user leaves,
 * which closes its event stream and discards late answers.
 */
import { analyticsView } from './analytics.js';
import { currentUser, logout, onSessionChange, type SessionChange, signedIn } from './api.js';
import { authView } from './auth.js';
import { documentsView, documentView } from './documents.js';
import { h, pageElement, showError, type ViewContext } from './dom.js';
import { runView } from './run.js';
import { serviceView } from './service.js';
import { workflowView } from './workflow.js';
import { workflowsView } from './workflows.js';

type Route = [RegExp, (m: RegExpMatchArray, ctx: ViewContext) => Promise<void>];

const ROUTES: Route[] = [
  [/^#\/workflows\/(\d+)\/runs\/(\d+)$/, (m, ctx) => runView(ctx, Number(m[1]), Number(m[2]))],
  [/^#\/workflows\/(\d+)\/analytics$/, (m, ctx) => analyticsView(ctx, Number(m[1]))],
  [/^#\/workflows\/(\d+)$/, (m, ctx) => workflowView(ctx, Number(m[1]))],
  [/^#\/workflows$/, (_m, ctx) => workflowsView(ctx)],
  [/^#\/documents\/(\d+)(?:\/versions\/(\d+))?$/, (m, ctx) => documentView(ctx, Number(m[1]), m[2] ? Number(m[2]) : null)],
  [/^#\/documents(?:\?(.*))?$/, (m, ctx) => documentsView(ctx, new URLSearchParams(m[1] || ''))],
  [/^#\/analytics(?:\?(.*))?$/, (m, ctx) => serviceView(ctx, new URLSearchParams(m[1] || ''))],
];

const NOTICES: Partial<Record<SessionChange, string>> = {
  'signed-out': 'You are signed out.',
  expired: 'Your session has ended. Please sign in again.',
};

let current: AbortController | null = null;
let notice = '';
let initialLoad = true;

function updateNav(): void {
  const nav = pageElement('#nav', HTMLElement);
  const user = currentUser();
  nav.hidden = !user;
  pageElement('#who', HTMLElement).textContent = user ? `${user.username} (${user.role})` : '';
  const section = location.hash.match(/^#\/(\w+)/)?.[1] || 'workflows';
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${section}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function render(): Promise<void> {
  const moveFocus = !initialLoad;
  initialLoad = false;
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  const root = h('div', { class: 'view' });
  pageElement('#main', HTMLElement).replaceChildren(root);
  updateNav();
  if (!signedIn()) {
    authView(root, notice);
    notice = '';
    // The tab no longer names the view that was open before signing out.
    document.title = 'Sign in — Document Workflow Chain';
    return;
  }
  const hash = location.hash || '#/workflows';
  const route = ROUTES.find(([re]) => re.test(hash));
  if (!route) {
    location.replace('#/workflows');
    return;
  }
  try {
    await route[1](hash.match(route[0])!, { root, signal });
  } catch (err) {
    if (!signal.aborted) showError(root, err);
  }
  if (signal.aborted) return;
  const heading = root.querySelector('h1');
  if (!heading) {
    document.title = 'Document Workflow Chain';
    return;
  }
  document.title = `${heading.textContent} — Document Workflow Chain`;
  // After a navigation, focus goes to the new page's heading, where a screen reader user expects
  // to continue; on first load it stays at the top so the skip link is the first Tab stop.
  if (moveFocus) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
}

onSessionChange((reason) => {
  if (reason === 'refreshed') return updateNav();
  notice = NOTICES[reason] || '';
  render();
});

const signOut = pageElement('#sign-out', HTMLButtonElement);
signOut.addEventListener('click', async () => {
  signOut.disabled = true;
  try {
    await logout();
  } catch (err) {
    showError(pageElement('#main .view', HTMLElement), err);
  } finally {
    signOut.disabled = false;
  }
});

pageElement('.skip', HTMLAnchorElement).addEventListener('click', (e) => {
  e.preventDefault();
  pageElement('#main', HTMLElement).focus();
});

window.addEventListener('hashchange', render);
render();
