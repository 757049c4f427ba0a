import { type DType, TesseraError } from '@tessera/ir';
import type { TensorData } from './backend.ts';
import type { KernelProgram } from './kernel.ts';

/** The typed array each dtype is passed in. */
export const ARRAY_FOR: Readonly<Record<DType, string>> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

/**
 * Places a program's inputs into a backend's buffers, the same way for every
 * backend: checks each array's kind and length against its buffer, keeps
 * track of inputs placed once (setInputs: weights), and names missing ones.
 */
export class InputBinder {
  private readonly placed = new Set<string>();
  private readonly byName: ReadonlyMap<string, number>;

  constructor(
    private readonly program: KernelProgram,
    /** Copies an input's values into buffer `buffer` of the backend. */
    private readonly write: (buffer: number, v: TensorData) => void,
  ) {
    this.byName = new Map(program.inputs.map((i) => [i.name, i.buffer]));
  }

  /** Checks and writes one input. */
  place(name: string, v: TensorData): void {
    const buffer = this.byName.get(name);
    if (buffer === undefined) throw new TesseraError(`'${name}' is not an input of program '${this.program.name}' (inputs: ${[...this.byName.keys()].join(', ')})`);
    const decl = this.program.buffers[buffer]!;
    if (v.constructor.name !== ARRAY_FOR[decl.dtype]) throw new TesseraError(`input '${name}' must be a ${ARRAY_FOR[decl.dtype]} for dtype ${decl.dtype}, got ${v.constructor.name}`);
    if (v.length !== decl.size) throw new TesseraError(`input '${name}' of shape [${decl.shape.join(',')}] needs ${decl.size} elements, got ${v.length}`);
    this.write(buffer, v);
  }

  /** Places inputs that later runs may leave out. */
  setInputs(inputs: Readonly<Record<string, TensorData>>): void {
    for (const [name, v] of Object.entries(inputs)) {
      this.place(name, v);
      this.placed.add(name);
    }
  }

  /** Places a run's inputs; every input must be given now or have been placed before. */
  bindRun(inputs: Readonly<Record<string, TensorData>>): void {
    for (const { name, buffer } of this.program.inputs) {
      const v = inputs[name];
      if (v) this.place(name, v);
      else if (!this.placed.has(name)) {
        const decl = this.program.buffers[buffer]!;
        throw new TesseraError(`missing input '${name}' (${decl.dtype}[${decl.shape.join(',')}])`);
      }
    }
  }
}
