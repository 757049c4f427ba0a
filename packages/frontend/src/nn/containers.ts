import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';

/** A module with a single-tensor forward, as nn.Sequential chains. */
export type Layer = Module & { forward(x: Tensor): Tensor };

/** A list of modules whose children are named 0, 1, 2, ..., as torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  readonly #items: M[];

  constructor(modules: Iterable<M> = []) {
    super();
    this.#items = [...modules];
  }

  /** Appends a module; returns this list. */
  push(m: M): this {
    this.#items.push(m);
    return this;
  }

  /** The module at `i` (negative counts from the end). */
  at(i: number): M {
    const m = this.#items.at(i);
    if (!m) throw new RangeError(`ModuleList index ${i} is out of range for length ${this.#items.length}`);
    return m;
  }

  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }

  override namedMembers(): [string, Module | Parameter][] {
    return [...this.#items.map((m, i): [string, Module] => [String(i), m]), ...super.namedMembers()];
  }
}

/** Modules applied in order, each to the previous one's output, as torch.nn.Sequential (children 0, 1, 2, ...). */
export class Sequential extends ModuleList<Layer> {
  constructor(...layers: Layer[]) {
    super(layers);
  }

  /** Applies every layer in turn. */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this) y = layer.forward(y);
    return y;
  }
}
