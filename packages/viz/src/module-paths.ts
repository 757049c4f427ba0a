/**
 * Where a graph node or kernel came from in the model's module tree
 * (`encoder.layers.encoder_layer_3.mlp`), inferred from the parameters'
 * names, which are the model's `state_dict` paths. The IR records no module
 * scopes, so this works for any program whose parameters are named as
 * PyTorch names them: traced DSL models, IR text, imported models alike.
 *
 * The rule: a node that reads parameters belongs to their module (the
 * longest common prefix when it reads several); another node belongs to
 * the module of its latest-defined operand (a residual add joins the
 * branch just computed, not the stream from the layer before); a node with
 * neither (a constant, an iota) to the module of its first consumer.
 * Values computed from activation inputs alone belong to the root ('').
 */
import type { Program } from '@tessera/ir';
import { type Kernel, type KernelProgram, kernelStores } from '@tessera/kernel';

/** The module of a parameter path: everything before its last segment (`fc1.weight` -> `fc1`, `class_token` -> ''). */
export function parameterModule(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(0, dot);
}

/** The longest common dotted prefix of module paths (`a.b.c`, `a.b.d` -> `a.b`). */
export function commonModule(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let common = paths[0]!.split('.');
  for (const p of paths.slice(1)) {
    const parts = p.split('.');
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  return common.join('.');
}

/** The module path of every node and input of `p`, by value name (see the rule above). */
export function nodeModules(p: Program): Map<string, string> {
  const modules = new Map<string, string>();
  const params = new Set<string>();
  const order = new Map<string, number>();
  p.inputs.forEach((i, at) => {
    order.set(i.name, at - p.inputs.length);
    if (i.kind === 'parameter') {
      params.add(i.name);
      modules.set(i.name, parameterModule(i.name));
    } else modules.set(i.name, '');
  });
  p.nodes.forEach((n, at) => order.set(n.name, at));
  const unplaced: string[] = [];
  for (const n of p.nodes) {
    const read = n.operands.filter((o) => params.has(o));
    if (read.length) {
      modules.set(n.name, commonModule(read.map(parameterModule)));
      continue;
    }
    let latest: string | undefined;
    for (const o of n.operands) if (modules.has(o) && (latest === undefined || order.get(o)! > order.get(latest)!)) latest = o;
    if (latest !== undefined) modules.set(n.name, modules.get(latest)!);
    else unplaced.push(n.name);
  }
  // Constants and iotas take their first consumer's module (in program order, so one placed this way can place another).
  for (let changed = true; changed && unplaced.length; ) {
    changed = false;
    for (const name of [...unplaced]) {
      const consumer = p.nodes.find((n) => n.operands.includes(name) && modules.has(n.name));
      if (!consumer) continue;
      modules.set(name, modules.get(consumer.name)!);
      unplaced.splice(unplaced.indexOf(name), 1);
      changed = true;
    }
  }
  for (const name of unplaced) modules.set(name, '');
  return modules;
}

/**
 * The module of a kernel of `program`: the common module of the graph nodes
 * it stores (its results), or of every node it computes when it stores none
 * of them ('' when it records none). Not of every node it computes: a cheap
 * value recomputed in several kernels (a causal mask) belongs to the first
 * consumer's layer, and would pull the others' kernels out of theirs.
 */
export function kernelModule(k: Kernel, program: KernelProgram, modules: ReadonlyMap<string, string>): string {
  const stored = new Set(kernelStores(k).map((s) => program.buffers[s.buffer]!.name));
  const nodes = k.nodes ?? [];
  const results = nodes.filter((n) => stored.has(n));
  return commonModule((results.length ? results : nodes).map((n) => modules.get(n)).filter((m): m is string => m !== undefined));
}
