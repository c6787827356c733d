/**
 * /console/dom.js: DOM helpers. Text reaches the page only through text nodes and textContent,
 * never through innerHTML, so data from the API cannot become markup.
 */
import { ApiError } from './api.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes: null, undefined and false leave one out, true sets it empty, anything else is text. */
export type Props = Record<string, string | number | boolean | null | undefined>;
/** Children: nodes, or text; arrays are flattened and null, undefined and false skipped. */
export type Child = Node | string | number | false | null | undefined | Child[];
/** What every view gets: the element to fill, and a signal that fires when the user leaves it. */
export type ViewContext = { root: HTMLElement; signal: AbortSignal };

function setProps(el: Element, props: Props = {}): void {
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Like el.append(), but flattens arrays and skips null, undefined and false. */
export function append<E extends Element>(el: E, ...children: Child[]): E {
  for (const child of children) {
    if (Array.isArray(child)) append(el, ...child);
    else if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** h('a', { href: '#/x', class: 'y' }, 'text', otherNode): an HTML element. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setProps(el, props);
  return append(el, ...children);
}

/** s('rect', { x: 0, ... }): an SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  return append(el, ...children);
}

/** An element the page must have (the HTML shell's, or a view's); a missing one is a bug. */
export function pageElement<T extends Element>(selector: string, type: abstract new () => T): T {
  const el = document.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`The console page has no ${selector}`);
  return el;
}

let fieldCounter = 0;

/** A labelled form control: the label element names the control for assistive technology. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLDivElement {
  control.id = control.id || `f${++fieldCounter}`;
  const parts: Child[] = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintEl = h('small', { id: `${control.id}-hint`, class: 'hint' }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

/** A status word shown as a badge; the word itself is visible, colour only reinforces it. */
export function badge(status: string): HTMLSpanElement {
  return h('span', { class: 'badge', 'data-status': status }, status);
}

export function fmtTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${(ms / 60000).toFixed(1)} min`;
}

export function fmtNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString();
}

/** A validation issue (zod's, as the API reports it) as one line: "path.to.field: message". */
function issueLine(issue: unknown): string {
  if (typeof issue !== 'object' || issue === null) return '';
  const path = 'path' in issue && Array.isArray(issue.path) && issue.path.length ? `${issue.path.join('.')}: ` : '';
  return path + ('message' in issue && typeof issue.message === 'string' ? issue.message : '');
}

/** Shows an error (an ApiError or any Error) in a live alert region inside container. */
export function showError(container: Element, err: unknown): HTMLDivElement {
  const details = err instanceof ApiError && Array.isArray(err.details) ? err.details.map(issueLine) : [];
  const message = err instanceof Error && err.message ? err.message : String(err);
  const box = h('div', { class: 'alert', role: 'alert' }, h('p', {}, message));
  if (details.length)
    box.append(
      h(
        'ul',
        {},
        details.map((d) => h('li', {}, d)),
      ),
    );
  const old = container.querySelector(':scope > .alert');
  if (old) old.replaceWith(box);
  else container.prepend(box);
  return box;
}

let toastTimer: number | undefined;

export function toast(message: string): void {
  const el = pageElement('#toast', HTMLElement);
  el.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.textContent = '';
  }, 4000);
}

/** Runs an async action from a button, disabling it meanwhile and reporting failures in place. */
export async function busy<T>(button: HTMLButtonElement, container: Element, action: () => Promise<T>): Promise<T | undefined> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } catch (err) {
    showError(container, err);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
