/**
 * Function names for a WebAssembly module that has none: a `name` custom
 * section (function-names subsection) appended to its bytes, naming the
 * functions its exports point at. Debuggers, profilers and WAT printers
 * then show `$k3_matmul` instead of `$f12`.
 */
import { uleb, utf8 } from '@tessera/backend-cpu';
import { TesseraError } from '@tessera/ir';

/** A reader of a module's bytes: LEB128 integers and names. */
class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at = 0,
  ) {}
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.bytes[this.at++];
      if (b === undefined) throw new TesseraError('wasm: module ends inside a LEB128 integer');
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
}

/** The function index each exported function has, by export name. */
export function exportedFunctions(bytes: Uint8Array): Map<string, number> {
  const r = new Reader(bytes, 8);
  const found = new Map<string, number>();
  while (r.at < bytes.length) {
    const id = bytes[r.at++]!;
    const size = r.u32();
    const end = r.at + size;
    if (id === 7) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.name();
        const kind = bytes[r.at++];
        const index = r.u32();
        if (kind === 0x00) found.set(name, index);
      }
    }
    r.at = end;
  }
  return found;
}

/** `bytes` with a name section naming the functions of the given exports (export name -> function name); unknown exports are an error. */
export function withFunctionNames(bytes: Uint8Array, names: ReadonlyMap<string, string>): Uint8Array<ArrayBuffer> {
  const exported = exportedFunctions(bytes);
  const entries: [number, string][] = [];
  for (const [exportName, name] of names) {
    const index = exported.get(exportName);
    if (index === undefined) throw new TesseraError(`wasm: the module exports no function '${exportName}' to name '${name}'`);
    entries.push([index, name]);
  }
  entries.sort((a, b) => a[0] - b[0]);
  const functionNames = [...uleb(entries.length), ...entries.flatMap(([i, n]) => [...uleb(i), ...utf8(n)])];
  const payload = [...utf8('name'), 0x01, ...uleb(functionNames.length), ...functionNames];
  const out = new Uint8Array(bytes.length + 1 + uleb(payload.length).length + payload.length);
  out.set(bytes);
  out.set([0x00, ...uleb(payload.length), ...payload], bytes.length);
  return out;
}
