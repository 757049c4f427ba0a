import { TesseraError } from '@tessera/ir';
import { type KernelShader, type ShaderBinding, isTextureBinding } from '../wgsl/module.ts';

/** A shader that failed to compile or a pipeline that failed validation, with the kernel's name and the WGSL line. */
export class ShaderError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'ShaderError';
  }
}

/** Formats compilation messages with the offending WGSL lines quoted. */
export function formatShaderMessages(shader: KernelShader, messages: readonly GPUCompilationMessage[]): string {
  const lines = shader.wgsl.split('\n');
  return messages
    .map((m) => {
      const src = m.lineNum > 0 ? lines[m.lineNum - 1] : undefined;
      const where = m.lineNum > 0 ? `WGSL line ${m.lineNum}:${m.linePos}` : 'WGSL';
      return `${m.type} at ${where}: ${m.message}${src !== undefined ? `\n  ${m.lineNum} | ${src}` : ''}`;
    })
    .join('\n');
}

const LAYOUT_KEY: Record<ShaderBinding['access'], string> = { read: 'r', read_write: 'w', sampled: 't', write: 'o' };

/** The resource part of a bind group layout entry for one binding. */
function layoutEntry(b: ShaderBinding): Omit<GPUBindGroupLayoutEntry, 'binding' | 'visibility'> {
  if (!isTextureBinding(b)) return { buffer: { type: b.access === 'read' ? 'read-only-storage' : 'storage' } };
  if (b.access === 'sampled') return { texture: { sampleType: 'unfilterable-float', viewDimension: '2d' } };
  return { storageTexture: { access: 'write-only', format: 'rgba32float', viewDimension: '2d' } };
}

/** Bind group layouts by binding signature, and compute pipelines by WGSL text: a shader is compiled once per device. */
export class PipelineCache {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();

  constructor(private readonly device: GPUDevice) {}

  /** The bind group layout for a list of bindings (read-only or writable storage buffers, sampled or written rgba32float textures). */
  layout(bindings: readonly ShaderBinding[]): GPUBindGroupLayout {
    const key = bindings.map((b) => LAYOUT_KEY[b.access]).join('');
    let l = this.layouts.get(key);
    if (!l) {
      l = this.device.createBindGroupLayout({
        label: `tessera ${key}`,
        entries: bindings.map((b, i) => ({ binding: i, visibility: GPUShaderStage.COMPUTE, ...layoutEntry(b) })),
      });
      this.layouts.set(key, l);
    }
    return l;
  }

  /** The compute pipeline of a kernel shader, compiled once per distinct WGSL text. */
  pipeline(shader: KernelShader): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(shader.wgsl);
    if (!p) {
      p = this.create(shader);
      this.pipelines.set(shader.wgsl, p);
      // A failed compile is not cached: the error names this kernel, and a later one may be fixed.
      p.catch(() => this.pipelines.delete(shader.wgsl));
    }
    return p;
  }

  /** Compiles inside error scopes and reports failures with the kernel name and WGSL line. */
  private async create(shader: KernelShader): Promise<GPUComputePipeline> {
    const d = this.device;
    const what = `kernel ${shader.name} (${shader.variant})`;
    d.pushErrorScope('validation');
    const module = d.createShaderModule({ code: shader.wgsl, label: shader.name });
    const layout = d.createPipelineLayout({ bindGroupLayouts: [this.layout(shader.bindings)], label: shader.name });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      await d.popErrorScope();
      throw new ShaderError(`${what}: WGSL does not compile:\n${formatShaderMessages(shader, errors)}`);
    }
    // Not createComputePipelineAsync: with Dawn's OpenGL ES backend it crashed the process now and then (llvmpipe, dawn.node 0.6.2).
    const pipeline = d.createComputePipeline({ layout, compute: { module, entryPoint: 'main' }, label: shader.name });
    const err = await d.popErrorScope();
    if (err) throw new ShaderError(`${what}: ${err.message}`);
    return pipeline;
  }
}
