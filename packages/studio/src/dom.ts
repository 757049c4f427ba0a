/** A few DOM helpers, so the views stay plain TypeScript. */

/** Children el() accepts: elements, text, or nothing. */
type Child = Node | string | undefined | false;

/** Creates an element with attributes (strings, or event handlers for `on…` keys) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | ((e: Event) => void)> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== undefined && c !== false) e.append(c);
  return e;
}

/** The element with this id (it must exist: the page's HTML declares it). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

/** An error as a user reads it (a TesseraError's message names what and where). */
export function messageOf(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs a panel's action, marking `target` busy, then done or failed
 * (`data-state`), with a failure's message shown in it: what the
 * Chromium test waits for.
 */
export async function runAction(target: HTMLElement, action: () => Promise<void>): Promise<void> {
  target.dataset.state = 'busy';
  try {
    await action();
    target.dataset.state = 'done';
  } catch (e) {
    target.dataset.state = 'error';
    target.replaceChildren(el('pre', { class: 'error' }, messageOf(e)));
    console.error(e);
  }
}
