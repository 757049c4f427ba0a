/** Values that print themselves in fast-check's counterexamples. */
import fc from 'fast-check';

/**
 * Attaches (non-enumerable, so equality and JSON ignore it) fast-check's
 * toString hook to a value, so a failing property prints `show(value)`,
 * e.g. the program as IR text, instead of a deep object dump.
 */
export function printable<T extends object>(value: T, show: (v: T) => string): T {
  Object.defineProperty(value, fc.toStringMethod, { value: () => `\n${show(value)}`, enumerable: false, configurable: true });
  return value;
}
