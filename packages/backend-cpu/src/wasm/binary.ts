/**
 * A small WebAssembly binary emitter: just the sections Tessera's kernels
 * need (type, import, function, export, code), LEB128, and a function
 * builder with structured control flow whose branch targets are label
 * objects rather than depths, so emitters cannot get a depth wrong.
 */
import { OP, SIMD } from './opcodes.ts';

/** Value types (their binary codes). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** A tuple of N elements of T (N a literal number). */
export type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** The empty block type. */
const EMPTY = 0x40;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[] = []): number[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`uleb: ${n} is not a non-negative integer`);
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 32-bit integer (values are wrapped to i32 first). */
export function sleb(n: number, out: number[] = []): number[] {
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A name as the binary format writes it: its UTF-8 length, then its bytes. */
export function utf8(s: string): number[] {
  const bytes = Array.from(new TextEncoder().encode(s));
  return [...uleb(bytes.length), ...bytes];
}

/** A branch target: the block or loop it was opened by. */
export interface Label {
  readonly kind: 'block' | 'loop' | 'if';
}

/** Builds the body of one function: locals, then instructions appended in order. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  private readonly labels: Label[] = [];
  private readonly f32scratch = new DataView(new ArrayBuffer(8));

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  /** A new local of type `t`; returns its index (parameters come first). */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }

  /** Declares `n` locals of type `t`; returns their indices as a tuple (for destructuring). */
  locals<N extends number>(t: ValType, n: N): Tuple<number, N> {
    return Array.from({ length: n }, () => this.local(t)) as Tuple<number, N>;
  }

  /** Appends raw bytes. */
  op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** i32.const */
  i32(v: number): this {
    return this.op(OP.i32_const, ...sleb(v));
  }

  /** f32.const (v rounded to float32) */
  f32(v: number): this {
    this.f32scratch.setFloat32(0, v, true);
    return this.op(OP.f32_const, ...[0, 1, 2, 3].map((i) => this.f32scratch.getUint8(i)));
  }

  /** f64.const */
  f64(v: number): this {
    this.f32scratch.setFloat64(0, v, true);
    return this.op(OP.f64_const, ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => this.f32scratch.getUint8(i)));
  }

  /** v128.const from four f32 lanes. */
  f32x4(a: number, b = a, c = a, d = a): this {
    const dv = new DataView(new ArrayBuffer(16));
    [a, b, c, d].forEach((x, i) => dv.setFloat32(i * 4, x, true));
    return this.simd(SIMD.v128_const).op(...new Uint8Array(dv.buffer));
  }

  /** v128.const from four i32 lanes. */
  i32x4(a: number, b = a, c = a, d = a): this {
    const dv = new DataView(new ArrayBuffer(16));
    [a, b, c, d].forEach((x, i) => dv.setInt32(i * 4, x, true));
    return this.simd(SIMD.v128_const).op(...new Uint8Array(dv.buffer));
  }

  /** local.get */
  get(l: number): this {
    return this.op(OP.local_get, ...uleb(l));
  }

  /** local.set */
  set(l: number): this {
    return this.op(OP.local_set, ...uleb(l));
  }

  /** local.tee */
  tee(l: number): this {
    return this.op(OP.local_tee, ...uleb(l));
  }

  /** A memory instruction with its memarg (log2 alignment, byte offset). */
  mem(opcode: number, alignLog2: number, offset = 0): this {
    return this.op(opcode, ...uleb(alignLog2), ...uleb(offset));
  }

  /** i32.atomic.rmw.add (0xFE-prefixed, threads proposal): adds to the i32 at the address on the stack, pushes the old value. */
  atomicAddI32(offset = 0): this {
    return this.op(0xfe, 0x1e, ...uleb(2), ...uleb(offset));
  }

  /** A SIMD (0xFD-prefixed) instruction without immediates. */
  simd(opcode: number): this {
    return this.op(0xfd, ...uleb(opcode));
  }

  /** A SIMD memory instruction. */
  simdMem(opcode: number, alignLog2: number, offset = 0): this {
    return this.op(0xfd, ...uleb(opcode), ...uleb(alignLog2), ...uleb(offset));
  }

  /** A SIMD lane instruction (extract/replace). */
  simdLane(opcode: number, lane: number): this {
    return this.op(0xfd, ...uleb(opcode), lane);
  }

  /** i8x16.shuffle with 16 lane indices. */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error(`i8x16.shuffle needs 16 lanes, got ${lanes.length}`);
    return this.op(0xfd, ...uleb(SIMD.i8x16_shuffle), ...lanes);
  }

  /** A 0xFC-prefixed instruction (saturating truncation, bulk memory). */
  misc(opcode: number, ...imm: number[]): this {
    return this.op(0xfc, ...uleb(opcode), ...imm);
  }

  private structured(kind: Label['kind'], opcode: number, type: ValType | undefined, body: (l: Label) => void): Label {
    const label: Label = { kind };
    this.op(opcode, type ?? EMPTY);
    this.labels.push(label);
    body(label);
    this.labels.pop();
    this.op(OP.end);
    return label;
  }

  /** block ... end; `br(label)` inside jumps past the end. */
  block(body: (l: Label) => void, type?: ValType): this {
    this.structured('block', OP.block, type, body);
    return this;
  }

  /** loop ... end; `br(label)` inside jumps back to the start. */
  loop(body: (l: Label) => void): this {
    this.structured('loop', OP.loop, undefined, body);
    return this;
  }

  /** if ... [else ...] end, on the i32 condition on the stack. */
  if(then: () => void, otherwise?: () => void, type?: ValType): this {
    const label: Label = { kind: 'if' };
    this.op(OP.if, type ?? EMPTY);
    this.labels.push(label);
    then();
    if (otherwise) {
      this.op(OP.else);
      otherwise();
    }
    this.labels.pop();
    return this.op(OP.end);
  }

  private depth(l: Label): number {
    const i = this.labels.lastIndexOf(l);
    if (i < 0) throw new Error('branch to a label that is not open here');
    return this.labels.length - 1 - i;
  }

  /** Branch to an open label (past a block's end, or back to a loop's start). */
  br(l: Label): this {
    return this.op(OP.br, ...uleb(this.depth(l)));
  }

  /** Branch to an open label if the i32 on the stack is nonzero. */
  brIf(l: Label): this {
    return this.op(OP.br_if, ...uleb(this.depth(l)));
  }

  /** call of a function by index (imports first, then defined functions). */
  call(funcIndex: number): this {
    return this.op(OP.call, ...uleb(funcIndex));
  }

  /**
   * `for (i = start; i < end; i += step) body`, with the bound check before
   * the first iteration; `start` and `end` push i32 values (end is evaluated
   * each iteration, so pass a local or a constant).
   */
  for(i: number, start: () => void, end: () => void, step: number, body: () => void): this {
    start();
    this.set(i);
    return this.block((exit) => {
      this.get(i);
      end();
      this.op(OP.i32_ge_s).brIf(exit);
      this.loop((top) => {
        body();
        this.get(i).i32(step).op(OP.i32_add).tee(i);
        end();
        this.op(OP.i32_lt_s).brIf(top);
      });
    });
  }

  /** The encoded body: local declarations (run-length grouped) then code. */
  encode(): number[] {
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...uleb(groups.length)];
    for (const [n, t] of groups) body.push(...uleb(n), t);
    for (const b of this.code) body.push(b);
    body.push(OP.end);
    const out = uleb(body.length);
    for (const b of body) out.push(b);
    return out;
  }
}

interface FuncImport {
  readonly module: string;
  readonly name: string;
  readonly type: number;
}

/** Builds a module: imported functions and memory, defined functions, exports. */
export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly typeBytes: number[][] = [];
  private readonly funcImports: FuncImport[] = [];
  private memoryImport?: { module: string; name: string; min: number; max: number | undefined; shared: boolean };
  private readonly funcs: { type: number; fn: FunctionBuilder }[] = [];
  private readonly exports: { name: string; index: number }[] = [];

  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    const key = `${params.join(',')}->${results.join(',')}`;
    const i = this.types.indexOf(key);
    if (i >= 0) return i;
    this.types.push(key);
    this.typeBytes.push([0x60, ...uleb(params.length), ...params, ...uleb(results.length), ...results]);
    return this.types.length - 1;
  }

  /** Imports a function; all imports must come before the first defined function. Returns its function index. */
  importFunc(module: string, name: string, params: readonly ValType[], results: readonly ValType[]): number {
    if (this.funcs.length) throw new Error(`import ${module}.${name} after a defined function: imports come first in the index space`);
    this.funcImports.push({ module, name, type: this.typeIndex(params, results) });
    return this.funcImports.length - 1;
  }

  /** Imports the linear memory (pages of 64 KiB; a shared memory needs a maximum). */
  importMemory(module: string, name: string, min: number, max: number | undefined, shared: boolean): void {
    if (shared && max === undefined) throw new Error('a shared memory needs a maximum size');
    this.memoryImport = { module, name, min, max, shared };
  }

  /** Index the next defined function will get. */
  nextFuncIndex(): number {
    return this.funcImports.length + this.funcs.length;
  }

  /** Adds a defined function (exported under `exportName` if given); returns its function index. */
  addFunc(fn: FunctionBuilder, exportName?: string): number {
    const index = this.nextFuncIndex();
    this.funcs.push({ type: this.typeIndex(fn.params, fn.results), fn });
    if (exportName) this.exports.push({ name: exportName, index });
    return index;
  }

  /** The module's bytes. */
  encode(): Uint8Array<ArrayBuffer> {
    const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const section = (id: number, payload: number[]) => {
      out.push(id, ...uleb(payload.length));
      for (const b of payload) out.push(b);
    };
    const vec = (items: number[][]) => {
      const r = uleb(items.length);
      for (const it of items) for (const b of it) r.push(b);
      return r;
    };
    section(1, vec(this.typeBytes));
    const imports: number[][] = this.funcImports.map((f) => [...utf8(f.module), ...utf8(f.name), 0x00, ...uleb(f.type)]);
    if (this.memoryImport) {
      const m = this.memoryImport;
      const limits = m.max === undefined ? [0x00, ...uleb(m.min)] : [m.shared ? 0x03 : 0x01, ...uleb(m.min), ...uleb(m.max)];
      imports.push([...utf8(m.module), ...utf8(m.name), 0x02, ...limits]);
    }
    if (imports.length) section(2, vec(imports));
    section(3, vec(this.funcs.map((f) => uleb(f.type))));
    section(7, vec(this.exports.map((e) => [...utf8(e.name), 0x00, ...uleb(e.index)])));
    section(10, vec(this.funcs.map((f) => f.fn.encode())));
    return new Uint8Array(out);
  }
}
