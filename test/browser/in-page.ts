/*
 * Functions that run inside the console page: page.evaluate() sends their source text to
 * Chromium, so they may use nothing from this module's scope but their arguments. Neither
 * tsconfig loads the DOM library (it clashes with the Workers types), so the few browser globals
 * used here are declared for this module only.
 */
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare const sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; readonly length: number };

export type StoredSession = { access_token: string; refresh_token: string; user: { username: string } };
export type NodeChange = { kind: 'status'; node: string; old: string | null } | { kind: 'text'; node: string; added: string };

export function readSession(): StoredSession | null {
  const raw = sessionStorage.getItem('dwc.console.session');
  return raw ? JSON.parse(raw) : null;
}

export function storageSize(): number {
  return sessionStorage.length;
}

export function replaceAccessToken(token: string) {
  const s = JSON.parse(sessionStorage.getItem('dwc.console.session')!);
  s.access_token = token;
  sessionStorage.setItem('dwc.console.session', JSON.stringify(s));
}

export function focused(): { id: string; text: string } {
  const el = document.activeElement;
  return { id: el?.id ?? '', text: (el?.textContent ?? '').trim() };
}

/** Visible controls with no accessible name: no <label>, aria-label(ledby) or text of their own. */
export function unlabelledControls(): string[] {
  return [...document.querySelectorAll('input, select, textarea, button, a[href], [tabindex]')]
    .filter((el: any) => el.getClientRects().length > 0 && el.tagName !== 'H1')
    .filter(
      (el: any) => !el.labels?.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.textContent.trim(),
    )
    .map((el: any) => String(el.outerHTML).slice(0, 120));
}

export function widths(): { scroll: number; viewport: number } {
  return { scroll: document.documentElement.scrollWidth, viewport: window.innerWidth };
}

/**
 * Records, in order, every change of a node card's data-status and every piece of text added to
 * its output. A MutationObserver sees each DOM change the event stream causes, however quickly
 * the events arrive, so the test can tell what was on screen while a node was still running.
 */
export function recordNodeChanges() {
  const log: NodeChange[] = [];
  window.nodeChanges = log;
  new MutationObserver((records: any[]) => {
    for (const r of records) {
      const target = r.target;
      if (r.type === 'attributes' && target.classList.contains('node'))
        log.push({ kind: 'status', node: target.dataset.node, old: r.oldValue });
      if (r.type === 'childList' && target.classList?.contains('output')) {
        const added = [...r.addedNodes].map((n: any) => n.textContent).join('');
        if (added) log.push({ kind: 'text', node: target.closest('.node').dataset.node, added });
      }
    }
  }).observe(document.getElementById('main'), {
    subtree: true,
    childList: true,
    attributes: true,
    attributeOldValue: true,
    attributeFilter: ['data-status'],
  });
}

export function recordedNodeChanges(): NodeChange[] {
  return window.nodeChanges;
}

/** Marks the document; the mark survives hash navigation and live updates, not a reload. */
export function markDocument() {
  window.sameDocumentMark = true;
}

export function isMarkedDocument(): boolean {
  return window.sameDocumentMark === true;
}

/** Empties the transient notice so a screenshot shows the page underneath. */
export function clearToast() {
  document.getElementById('toast').textContent = '';
}
