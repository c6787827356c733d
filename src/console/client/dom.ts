/**
 * /console/dom.js: DOM helpers. Text reaches the page only through text nodes and textContent,
 * never through innerHTML, so data from the API cannot become markup.
 */
export default String.raw`
const SVG_NS = 'http://www.w3.org/2000/svg';

function setProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Like el.append(), but flattens arrays and skips null, undefined and false. */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h('a', { href: '#/x', class: 'y' }, 'text', otherNode): an HTML element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  return append(el, children);
}

/** s('rect', { x: 0, ... }): an SVG element. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  return append(el, children);
}

let fieldCounter = 0;

/** A labelled form control: the label element names the control for assistive technology. */
export function field(label, control, hint) {
  control.id = control.id || 'f' + (++fieldCounter);
  const parts = [h('label', { for: control.id }, label), control];
  if (hint) {
    const hintEl = h('small', { id: control.id + '-hint', class: 'hint' }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
    parts.push(hintEl);
  }
  return h('div', { class: 'field' }, parts);
}

/** A status word shown as a badge; the word itself is visible, colour only reinforces it. */
export function badge(status) {
  return h('span', { class: 'badge', 'data-status': status }, status);
}

export function fmtTime(value) {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return Math.round(ms) + ' ms';
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  return (ms / 60000).toFixed(1) + ' min';
}

export function fmtNumber(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString();
}

/** Shows an error (an ApiError or any Error) in a live alert region inside container. */
export function showError(container, err) {
  const details = Array.isArray(err && err.details)
    ? err.details.map((d) => (d.path && d.path.length ? d.path.join('.') + ': ' : '') + (d.message || ''))
    : [];
  const box = h('div', { class: 'alert', role: 'alert' }, h('p', {}, (err && err.message) || String(err)));
  if (details.length) box.append(h('ul', {}, details.map((d) => h('li', {}, d))));
  const old = container.querySelector(':scope > .alert');
  if (old) old.replaceWith(box);
  else container.prepend(box);
  return box;
}

export function toast(message) {
  const el = document.getElementById('toast');
  el.textContent = message;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.textContent = ''; }, 4000);
}

/** Runs an async action from a button, disabling it meanwhile and reporting failures in place. */
export async function busy(button, container, action) {
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
`;
