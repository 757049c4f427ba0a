/**
 * Programs larger than a CPU target can address are refused before
 * anything is allocated, with the buffer named: the wasm target's one
 * memory holds 4 GiB (wasm32), and every host array (wasm and JS targets,
 * the kernel evaluator) at most 2^31 - 1 elements. The programs here state
 * gigabytes; the tests allocate nothing of the kind.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ARRAY_ELEMENTS, ProgramBuilder, tensorType } from '@tessera/ir';
import { type KernelProgram, evaluatorBackend } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { createCpuBackend, emitWasmProgram } from '../src/index.ts';

/** y = -x over `n` f32 elements. */
function negate(n: number): KernelProgram {
  const b = new ProgramBuilder('huge');
  const x = b.input('x', tensorType('f32', [n]));
  b.output('y', b.emit('neg', [x]));
  return lowerToKernels(b.build());
}

describe('CPU targets refuse programs they cannot address, naming the buffer, before allocating', () => {
  it('wasm: buffers of 2.2 GB each, 4.4 GB in all, are more than a wasm32 memory holds; the error names the largest', async () => {
    const kp = negate(550_000_000);
    // The output buffer is named after its node (%0).
    const says = /^cpu backend \(wasm\): program @huge needs 4\.10 GiB \(\d+ bytes\) of memory, more than the 4 GiB a wasm32 memory holds; the largest parts: buffer %x \(f32\[550000000\]\): 2\.05 GiB \(2200000000 bytes\); buffer %0 \(f32\[550000000\]\): 2\.05 GiB \(2200000000 bytes\)$/;
    expect(() => emitWasmProgram(kp, { threads: 1 })).toThrow(says);
    for (const threads of [1, 2]) await expect(createCpuBackend({ target: 'wasm', threads }).compile(kp)).rejects.toThrow(says);
  });

  it('wasm: half of that fits (the limit is the memory, not the size of one buffer)', () => {
    expect(emitWasmProgram(negate(250_000_000), { threads: 1 }).memory.pages).toBeLessThanOrEqual(65536);
  });

  it('every target: a buffer of more than 2^31 - 1 elements', async () => {
    const kp = negate(MAX_ARRAY_ELEMENTS + 1);
    const named = (who: string) => new RegExp(`^${who}: buffer %x \\(f32\\[2147483648\\]\\) has 2147483648 elements, more than one of its arrays holds \\(2147483647\\)`);
    await expect(createCpuBackend({ target: 'wasm', threads: 1 }).compile(kp)).rejects.toThrow(named('cpu backend \\(wasm\\)'));
    await expect(createCpuBackend({ target: 'js' }).compile(kp)).rejects.toThrow(named('cpu backend \\(js\\)'));
    await expect(evaluatorBackend.compile(kp)).rejects.toThrow(named('kernel evaluator'));
  });
});
