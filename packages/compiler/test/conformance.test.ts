/**
 * The conformance table (@tessera/harness CONFORMANCE_CASES) on every
 * backend configuration: interp, eval, cpu (js; wasm on 1 and 2 threads)
 * and webgpu. Each case must record the same outcomes everywhere (outputs,
 * and error messages word for word) and pass its own check. A new backend
 * is held to the same semantics by adding its configuration here, with
 * what its executables say they run on.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend, defaultThreads } from '@tessera/backend-cpu';
import { sharedContext } from '@tessera/backend-webgpu';
import { CONFORMANCE_CASES, type CompileFor, type Outcome } from '@tessera/harness';
import { parseProgram } from '@tessera/ir';
import { type Backend, type BackendInfo, type BackendName, type Executable, compile, hostTensor } from '../src/index.ts';

/** The configurations under test, the interpreter (the reference) first, with the `exe.backend` each must report. */
const CONFIGS: readonly { readonly name: string; readonly backend: BackendName | Backend; readonly info: () => Promise<BackendInfo> }[] = [
  { name: 'interp', backend: 'interp', info: async () => ({ name: 'interp' }) },
  { name: 'eval', backend: 'eval', info: async () => ({ name: 'eval' }) },
  { name: 'cpu js', backend: createCpuBackend({ target: 'js' }), info: async () => ({ name: 'cpu', target: 'js', threads: 1 }) },
  { name: 'cpu wasm, 1 thread', backend: createCpuBackend({ target: 'wasm', threads: 1 }), info: async () => ({ name: 'cpu', target: 'wasm', threads: 1 }) },
  { name: 'cpu wasm, 2 threads', backend: createCpuBackend({ target: 'wasm', threads: 2 }), info: async () => ({ name: 'cpu', target: 'wasm', threads: 2 }) },
  { name: 'webgpu', backend: 'webgpu', info: async () => ({ name: 'webgpu', adapter: (await sharedContext()).report }) },
];

const compileOn =
  (backend: BackendName | Backend): CompileFor =>
  (program, weights) =>
    compile(program, { backend, verify: true, ...(weights === undefined ? {} : { weights: weights as never }) });

describe('one semantics on every backend (the conformance table)', () => {
  it.each(CONFORMANCE_CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const outcomes: Record<string, Outcome[]> = {};
    for (const { name, backend } of CONFIGS) outcomes[name] = await c.scenario(compileOn(backend));
    const reference = outcomes.interp!;
    expect(c.check(reference)).toEqual([]);
    for (const { name } of CONFIGS) {
      // The whole record, so a difference shows as a diff of calls: the same outputs and the same messages.
      expect({ backend: name, outcomes: outcomes[name] }).toEqual({ backend: name, outcomes: reference });
      expect(c.check(outcomes[name]!), name).toEqual([]);
    }
  });
});

const SQUARE = parseProgram(
  `program @square
input %x : f32[2]
%y = mul(%x, %x) : f32[2]
output y = %y
`,
);

describe('what each backend says it runs on, and `using`', () => {
  it.each(CONFIGS.map((c) => [c.name, c] as const))('%s: exe.backend names the backend, its target and threads (cpu) or adapter (webgpu)', async (_, c) => {
    const exe = await compile(SQUARE, { backend: c.backend });
    expect(exe.backend).toEqual(await c.info());
    exe.dispose();
  });

  it("cpu by name: wasm on every core this process may use (defaultThreads)", async () => {
    const exe = await compile(SQUARE, { backend: 'cpu' });
    expect(exe.backend).toEqual({ name: 'cpu', target: 'wasm', threads: await defaultThreads() });
    exe.dispose();
  });

  it.each(CONFIGS.map((c) => [c.name, c] as const))('%s: `using exe = await compile(...)` disposes it at the end of the block', async (_, c) => {
    let escaped: Executable | undefined;
    {
      using exe = await compile(SQUARE, { backend: c.backend });
      escaped = exe;
      const { y } = await exe.run({ x: hostTensor(Float32Array.of(3, -4), [2]) });
      expect([y!.dtype, y!.dims, Array.from(y!.data)]).toEqual(['f32', [2], [9, 16]]);
    }
    await expect(escaped.run({ x: Float32Array.of(1, 2) })).rejects.toThrow('cannot run() program @square: this executable has been disposed');
  });
});
