/**
 * Short renderings of untrusted JSON values for error messages. A value read
 * from a user's file can be nested 100,000 deep or hold a million elements:
 * JSON.stringify would overflow the stack on the one and print megabytes for
 * the other, so the message that reports the problem would itself crash.
 */

/** Characters a preview keeps by default (a message stays one readable line). */
export const PREVIEW_CHARS = 80;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A scalar as JSON would print it; long strings are cut first so the cost stays bounded. */
function scalarText(v: unknown, max: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > max ? `${v.slice(0, max)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'undefined';
  return String(JSON.stringify(v) ?? String(v));
}

/** One container being printed: its items (or keys), the next index, the closing bracket. */
interface Frame {
  readonly items: readonly unknown[];
  readonly keys?: readonly string[];
  readonly close: string;
  next: number;
}

/**
 * The JSON text of `value`, cut to at most `max` characters with `...` where
 * it was cut. Iterative (an explicit stack instead of recursion) and it stops
 * as soon as `max` is passed, so its cost is bounded by `max` and by the
 * length of the outermost containers, never by the nesting depth.
 */
export function previewJson(value: unknown, max = PREVIEW_CHARS): string {
  let out = '';
  const full = () => out.length > max;
  const stack: Frame[] = [];
  let pending: { value: unknown } | undefined = { value };
  while (!full()) {
    if (pending) {
      const v = pending.value;
      pending = undefined;
      if (Array.isArray(v)) {
        out += '[';
        stack.push({ items: v, close: ']', next: 0 });
      } else if (isObject(v)) {
        out += '{';
        const keys = Object.keys(v);
        stack.push({ items: keys.map((k) => v[k]), keys, close: '}', next: 0 });
      } else {
        out += scalarText(v, max);
      }
      continue;
    }
    const top = stack[stack.length - 1];
    if (!top) break;
    if (top.next >= top.items.length) {
      stack.pop();
      out += top.close;
      continue;
    }
    if (top.next > 0) out += ',';
    if (top.keys) out += `${scalarText(top.keys[top.next], max)}:`;
    pending = { value: top.items[top.next] };
    top.next++;
  }
  return out.length > max ? `${out.slice(0, Math.max(0, max - 3))}...` : out;
}
