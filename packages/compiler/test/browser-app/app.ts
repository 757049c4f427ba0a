/**
 * A browser app as a user writes one: a transformer block defined in the
 * DSL, traced in the page, its weights and input fetched as safetensors,
 * compiled and run on `cpu` (WebAssembly, on worker threads when the page is
 * cross-origin isolated) and on `webgpu` (navigator.gpu). It also traces a
 * ViT from @tessera/models and reports what a DSL mistake throws.
 *
 * It imports packages by name only (no relative imports): the browser-app
 * test bundles it with esbuild from whichever directory the packages are
 * installed in, and imports it in Node to trace the same models there.
 */
import { Module, type Tensor, nn, ops, trace } from '@tessera/frontend';
import { type Program, TesseraError, printProgram, readSafetensors } from '@tessera/ir';
import { VisionTransformer, bindCheckpoint, parseModelConfig, traceVit } from '@tessera/models';
import { compile } from '@tessera/compiler';

/** Batch, tokens, width, heads, feed-forward width, classes: odd sizes on purpose. */
const [B, T, D, HEADS, FFN, CLASSES] = [2, 19, 48, 3, 192, 10];

/** The block's input. */
export const BLOCK_INPUTS = { x: `f32[${B},${T},${D}]` };

/** A pre-norm transformer encoder block (layer_norm, multi-head attention with softmax, linear, GELU) and a softmax classifier per token. */
export class TinyBlock extends Module {
  readonly norm1 = new nn.LayerNorm(D);
  readonly selfAttn = this.registerModule('self_attn', new nn.MultiHeadAttention(D, HEADS));
  readonly norm2 = new nn.LayerNorm(D);
  readonly linear1 = new nn.Linear(D, FFN);
  readonly activation = new nn.GELU();
  readonly linear2 = new nn.Linear(FFN, D);
  readonly head = new nn.Linear(D, CLASSES);

  forward(x: Tensor): Record<string, Tensor> {
    const h = this.norm1.forward(x);
    const a = x.add(this.selfAttn.forward(h, h, h));
    const hidden = a.add(this.linear2.forward(this.activation.forward(this.linear1.forward(this.norm2.forward(a)))));
    return { hidden, probs: ops.softmax(this.head.forward(hidden), -1) };
  }
}

/** The block traced into a graph program. */
export function traceBlock(): Program {
  return trace(new TinyBlock(), BLOCK_INPUTS, { name: 'tiny_block' });
}

/** A small ViT (torchvision names), as a config file would describe it. */
export const VIT_CONFIG = { model: 'vit', image_size: 24, patch_size: 4, num_layers: 2, num_heads: 3, hidden_dim: 24, mlp_dim: 40, num_classes: 7, naming: 'torchvision', layer_norm_eps: 1e-6 };

/** The ViT of VIT_CONFIG traced for a batch of 2. */
export function traceSmallVit(): Program {
  const config = parseModelConfig(VIT_CONFIG, 'VIT_CONFIG');
  if (config.model !== 'vit') throw new TesseraError('VIT_CONFIG: expected a ViT');
  return traceVit(new VisionTransformer(config), 2);
}

/** A model whose linear layer expects 5 features and is given 4: the DSL mistake the page reports. */
class WrongWidth extends Module {
  readonly fc = new nn.Linear(5, 3);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

/** What the page reports: the traces as IR text, each backend's outputs, its threads, and the DSL error. */
export interface AppReport {
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly blockIr: string;
  readonly vitIr: string;
  /** Backend -> output name -> values. */
  readonly outputs: Record<string, Record<string, number[]>>;
  /** Threads the cpu executable runs on. */
  readonly cpuThreads: number | undefined;
  readonly dslError: { readonly name: string; readonly message: string; readonly loc: unknown };
}

/** Fetches and parses a safetensors file. */
async function fetchTensors(url: string) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return readSafetensors(new Uint8Array(await res.arrayBuffer()), url).tensors;
}

/** Runs the app: traces, fetches `weights.safetensors` and `inputs.safetensors` next to the page, runs on each backend. */
export async function main(backends: readonly ('cpu' | 'webgpu')[] = ['cpu', 'webgpu']): Promise<AppReport> {
  const model = new TinyBlock();
  const program = trace(model, BLOCK_INPUTS, { name: 'tiny_block' });
  const weights = bindCheckpoint(model, await fetchTensors('weights.safetensors'), 'weights.safetensors');
  const x = (await fetchTensors('inputs.safetensors')).get('x')!.data as Float32Array;

  const outputs: Record<string, Record<string, number[]>> = {};
  let cpuThreads: number | undefined;
  for (const backend of backends) {
    const exe = await compile(program, { backend, weights });
    if (backend === 'cpu') cpuThreads = (exe as { threads?: number }).threads;
    const out = await exe.run({ x });
    outputs[backend] = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data)]));
    exe.dispose();
  }

  let dslError: AppReport['dslError'] = { name: 'none', message: 'no error', loc: undefined };
  try {
    trace(new WrongWidth(), { x: 'f32[2,4]' });
  } catch (e) {
    dslError = { name: (e as Error).name, message: (e as Error).message, loc: e instanceof TesseraError ? e.loc : undefined };
  }
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
    blockIr: printProgram(program),
    vitIr: printProgram(traceSmallVit()),
    outputs,
    cpuThreads,
    dslError,
  };
}
