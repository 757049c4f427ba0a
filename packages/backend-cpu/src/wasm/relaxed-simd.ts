/**
 * Relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add where the hardware
 * has one) for the matmul micro-kernel: about 1.3-1.6x its speed with plain
 * f32x4.mul + f32x4.add on the 2-vCPU AMD EPYC this was measured on. Chrome
 * 114+, Firefox 120+ and Node 22+ have it; Node 20 (V8 11.3, one release
 * before it shipped) only behind a V8 flag, which enableRelaxedSimd sets.
 */
import { FunctionBuilder, ModuleBuilder, V128 } from './binary.ts';
import { SIMD } from './opcodes.ts';

let available: boolean | undefined;

/** A module using f32x4.relaxed_madd, to ask the engine whether it has relaxed SIMD. */
function probe(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  const f = new FunctionBuilder([V128, V128, V128], [V128]);
  f.get(0).get(1).get(2).simd(SIMD.f32x4_relaxed_madd);
  m.addFunc(f, 'madd');
  return m.encode();
}

/** Whether this engine compiles relaxed SIMD instructions. */
export function relaxedSimdAvailable(): boolean {
  available ??= WebAssembly.validate(probe());
  return available;
}

/** Whether the micro-kernel fuses multiply-adds unless told otherwise: where the engine can, and env TESSERA_WASM_RELAXED_SIMD is not 0. */
export function relaxedSimdByDefault(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TESSERA_WASM_RELAXED_SIMD !== '0' && relaxedSimdAvailable();
}

/**
 * Turns on relaxed SIMD in a Node whose V8 has it only behind a flag (Node
 * 20), for this process and the workers it starts; does nothing where the
 * engine has it already or outside Node. Call it before compiling: the CLI
 * and the benchmarks do. Returns whether relaxed SIMD is now available.
 */
export function enableRelaxedSimd(): boolean {
  if (relaxedSimdAvailable()) return true;
  const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;
  const v8 = getBuiltin?.('node:v8') as { setFlagsFromString(flags: string): void } | undefined;
  if (!v8) return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  available = WebAssembly.validate(probe());
  return available;
}
