/**
 * The conformance table (@tessera/harness CONFORMANCE_CASES) on every
 * backend configuration: interp, eval, cpu (js; wasm on 1 and 2 threads)
 * and webgpu. Each case must record the same outcomes everywhere (outputs,
 * and error messages word for word) and pass its own check. A new backend
 * is held to the same semantics by adding its configuration here.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/backend-cpu';
import { CONFORMANCE_CASES, type CompileFor, type Outcome } from '@tessera/harness';
import { type Backend, type BackendName, compile } from '../src/index.ts';

/** The configurations under test, the interpreter (the reference) first. */
const CONFIGS: readonly { readonly name: string; readonly backend: BackendName | Backend }[] = [
  { name: 'interp', backend: 'interp' },
  { name: 'eval', backend: 'eval' },
  { name: 'cpu js', backend: createCpuBackend({ target: 'js' }) },
  { name: 'cpu wasm, 1 thread', backend: createCpuBackend({ target: 'wasm', threads: 1 }) },
  { name: 'cpu wasm, 2 threads', backend: createCpuBackend({ target: 'wasm', threads: 2 }) },
  { name: 'webgpu', backend: 'webgpu' },
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
