import { type Program, byteSize, numel } from '@tessera/ir';
import type { KernelProgram } from '@tessera/kernel';

/** One temporary of the kernel program, as `--emit stats` lists it. */
export interface BufferStat {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
}

/** What `tessera compile --emit stats --json` prints. */
export interface CompileStats {
  /** Kernel launches per run. */
  readonly kernels: number;
  readonly kernelsByKind: Record<string, number>;
  /** Launches of the same program compiled with fusion off. */
  readonly unfusedKernels: number;
  /** The memory plan's peak for temporaries (the arena), bytes. */
  readonly peakActivationBytes: number;
  readonly parameterBytes: number;
  /** Floating-point operations per run (see flopsOf). */
  readonly flops: number;
  readonly buffers: readonly BufferStat[];
}

/**
 * Floating-point operations of a graph: 2*M*N*K per matmul, 2 per
 * output per window element of a convolution (plus 1 with a bias); attention
 * 2*Tq*Tk*(D + Dv) plus 5 per score (scale, max, exp, sum, divide); softmax
 * 5, log_softmax 5, layer_norm 8 and rms_norm 3 (4 with a weight) per element; logsumexp 5 per element
 * of its input; gelu 8 per element; 1 per element of every other
 * arithmetic op and of the input of a reduction, argmax, argmin or cumsum.
 * Movement, comparisons, casts, gathers and constants count 0.
 */
export function flopsOf(p: Program): number {
  const types = new Map(p.inputs.map((i) => [i.name, i.type] as const));
  for (const n of p.nodes) types.set(n.name, n.type);
  let flops = 0;
  for (const n of p.nodes) {
    const out = numel(n.type.shape);
    const x = types.get(n.operands[0] ?? '');
    switch (n.op) {
      case 'matmul':
        flops += 2 * out * x!.shape.at(-1)!;
        break;
      case 'conv2d':
        // A multiply-add per window element (in/groups * kH * kW), and the bias.
        flops += 2 * out * numel(types.get(n.operands[1]!)!.shape.slice(1)) + (n.operands.length > 2 ? out : 0);
        break;
      case 'attention': {
        const tk = types.get(n.operands[1]!)!.shape.at(-2)!;
        const d = x!.shape.at(-1)!;
        const dv = n.type.shape.at(-1)!;
        const rows = out / dv;
        flops += rows * tk * (2 * d + 2 * dv + 5);
        break;
      }
      case 'softmax':
      case 'log_softmax':
        flops += 5 * out;
        break;
      case 'logsumexp':
        flops += 5 * numel(x!.shape);
        break;
      case 'layer_norm':
      case 'gelu':
        flops += 8 * out;
        break;
      case 'rms_norm':
        // square, sum, scale (and the weight).
        flops += (n.operands.length > 1 ? 4 : 3) * out;
        break;
      case 'reduce_sum':
      case 'reduce_max':
      case 'reduce_mean':
      case 'reduce_min':
      case 'reduce_prod':
      case 'reduce_any':
      case 'reduce_all':
      case 'argmax':
      case 'argmin':
      case 'cumsum':
        flops += numel(x!.shape);
        break;
      case 'neg': case 'abs': case 'exp': case 'log': case 'sqrt': case 'rsqrt': case 'tanh': case 'erf': case 'sin': case 'cos': case 'recip':
      case 'add': case 'sub': case 'mul': case 'div': case 'max': case 'min': case 'pow':
        flops += out;
        break;
      default:
        break;
    }
  }
  return flops;
}

/** Statistics of a compiled program (fused kernels, with the unfused launch count for comparison). */
export function compileStats(graph: Program, kernels: KernelProgram, unfusedKernels: number): CompileStats {
  const kernelsByKind: Record<string, number> = {};
  for (const k of kernels.kernels) kernelsByKind[k.kind] = (kernelsByKind[k.kind] ?? 0) + 1;
  const temps = kernels.buffers.filter((b) => b.role === 'temp');
  const peak = kernels.arenaBytes ?? temps.reduce((s, b) => s + b.size * byteSize(b.dtype), 0);
  return {
    kernels: kernels.kernels.length,
    kernelsByKind,
    unfusedKernels,
    peakActivationBytes: peak,
    parameterBytes: graph.inputs.filter((i) => i.kind === 'parameter').reduce((s, i) => s + numel(i.type.shape) * byteSize(i.type.dtype), 0),
    flops: flopsOf(graph),
    buffers: temps.map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape, bytes: b.size * byteSize(b.dtype) })),
  };
}
