/** ONNX names as Tessera value names (letters, digits, `_` and `.`), kept unique. */

/** `name` with every character a value name cannot hold replaced by `_` (`/enc/Add_output_0` -> `_enc_Add_output_0`). */
export function valueNameOf(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.]/g, '_');
  return s === '' ? '_' : s.startsWith('.') ? `_${s}` : s;
}

/** Gives each ONNX name its value name, suffixing `_1`, `_2`, ... where two would collide. */
export class NameTable {
  private readonly taken = new Set<string>();

  /** The value name for `name`, unique among those given so far. */
  claim(name: string): string {
    const base = valueNameOf(name);
    let n = base;
    for (let i = 1; this.taken.has(n); i++) n = `${base}_${i}`;
    this.taken.add(n);
    return n;
  }
}
