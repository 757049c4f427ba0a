import { numel } from '@tessera/ir';
import type { MapKernel } from './util.ts';
import { type KernelShader, type ShaderModuleBuilder, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitStores } from './stores.ts';
import { WgslWriter, decomposeIndex } from './writer.ts';

/** Invocations per workgroup of map kernels: 8 SIMD lanes x 8 on llvmpipe, two warps on a GPU. */
const MAP_WORKGROUP = 64;

/** Elementwise / injective kernels: one invocation per point of the iteration space. */
export function emitMap(k: MapKernel, mb: ShaderModuleBuilder): KernelShader {
  const total = numel(k.shape);
  const groups = Math.ceil(total / MAP_WORKGROUP);
  const grid = gridFor(groups, mb.target.maxWorkgroupsPerDimension);
  const w = new WgslWriter(1);
  w.line(`let idx = wg * ${MAP_WORKGROUP}i + i32(lid);`);
  if (total % MAP_WORKGROUP !== 0 || grid[0] * grid[1] !== groups) w.line(`if (idx >= ${total}i) { return; }`);
  decomposeIndex(w, 'idx', k.shape, mb.names.axis);
  emitStores(w, mb, k.stores, 't');
  const bindings = kernelBindings(k);
  const wgsl = mb.assemble('map', bindings, `${entryHead(MAP_WORKGROUP, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'map', variant: 'map', wgsl, bindings, dispatch: grid, workgroupSize: MAP_WORKGROUP };
}
