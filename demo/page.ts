/**
 * What the demo's pages share around their work: finding elements, notices, the backend badge, and
 * how numbers and times are written. Text reaches the page through textContent only: a notice may
 * carry a file's column or class names.
 */

/** The element with this id; a page missing it is a bug of the page, said at once. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: #${id} is missing from the page`);
  return el as T;
};

export const fmt = new Intl.NumberFormat('en-US');
/** A rate: whole numbers from 100 up, one decimal below. */
export const fmtRate = (v: number) => (v >= 100 ? fmt.format(Math.round(v)) : v.toFixed(1));
export const pct = (v: number, digits = 1) => `${(100 * v).toFixed(digits)}%`;
/** A probability as a percentage with one decimal, "0%" and "100%" without. */
export const formatProb = (p: number) => `${(100 * p).toFixed(1).replace(/\.0$/, '')}%`;
export const formatTime = (ms: number) => {
  const s = ms / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
};
export const formatBytes = (n: number) =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 ** 2).toFixed(1)} MB`;

/**
 * A notice in `container`: a title, a text and, optionally, a button that removes the notice and acts.
 * Errors are alerts (read out at once), warnings status messages.
 */
export function notice(
  container: HTMLElement,
  title: string,
  text: string,
  level: 'warn' | 'error' = 'warn',
  action?: [string, () => void],
): HTMLElement {
  const el = document.createElement('div');
  el.className = 'notice';
  el.dataset.level = level;
  el.setAttribute('role', level === 'error' ? 'alert' : 'status');
  const body = document.createElement('div');
  const strong = document.createElement('strong');
  strong.textContent = title;
  const p = document.createElement('p');
  p.textContent = text;
  body.append(strong, p);
  el.append(body);
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'small';
    button.textContent = action[0];
    button.addEventListener('click', () => {
      el.remove();
      action[1]();
    });
    el.append(button);
  }
  container.append(el);
  return el;
}

/**
 * The notice of a GPU device lost behind the page's back: what the device said, why that happens,
 * `gone` (what the page lost with it, and what it kept), and a button that starts again on a new one.
 */
export function deviceLostNotice(
  container: HTMLElement,
  message: string,
  gone: string,
  restart: () => void,
): HTMLElement {
  return notice(
    container,
    'The GPU device was lost',
    `${message}. This happens when the GPU driver resets or the browser reclaims the GPU. ${gone}`,
    'error',
    ['Restart training', restart],
  );
}

/** The badge that says where the page computes: a dot coloured by `kind` and a line of text. */
export function setBackendBadge(
  badge: HTMLElement,
  text: HTMLElement,
  kind: 'webgpu' | 'cpu' | 'lost' | 'pending',
  line: string,
): void {
  badge.dataset.kind = kind;
  text.textContent = line;
  badge.title = line;
}
