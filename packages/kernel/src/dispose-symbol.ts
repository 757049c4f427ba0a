/**
 * `Symbol.dispose`, which `using` declarations call. Node 20.4+, Chrome 134+
 * and Firefox 135+ define it; elsewhere (older Safari, say) it is defined
 * here as `Symbol.for('Symbol.dispose')`, the symbol esbuild's and
 * TypeScript's down-levelled `using` fall back to, so an executable is
 * disposable wherever it is created.
 */

/** Defines `ctor.dispose` (the global Symbol by default) where it is missing; returns the symbol in use. */
export function ensureSymbolDispose(ctor: { dispose?: symbol } = Symbol as { dispose?: symbol }): symbol {
  if (typeof ctor.dispose !== 'symbol') Object.defineProperty(ctor, 'dispose', { value: Symbol.for('Symbol.dispose'), writable: false, enumerable: false, configurable: true });
  return ctor.dispose!;
}

ensureSymbolDispose();
