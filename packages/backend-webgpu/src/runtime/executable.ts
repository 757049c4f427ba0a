import { type DType, TesseraError } from '@tessera/ir';
import { type Executable, type KernelProgram, type TensorData, assertKernelProgram } from '@tessera/kernel';
import type { GpuContext } from '../device/context.ts';
import { emitProgramShaders } from '../wgsl/emit.ts';
import { type AttentionVariant, type KernelShader, type MatmulVariant, type Prepass, type ReduceVariant, type ShaderTexture, isTextureBinding } from '../wgsl/module.ts';

/** Per-compile choice of algorithms, over the device's table (tests and benchmarks force each variant this way). */
export interface VariantOverrides {
  readonly matmul?: MatmulVariant;
  readonly reduce?: ReduceVariant;
  readonly attention?: AttentionVariant;
}
import { fromStorage, toStorage } from './host-data.ts';

const ARRAY_FOR: Record<DType, string> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' };

/** Bytes of the device buffer behind a program buffer: 4 per element (bool as u32), rounded up to 16. */
export function deviceBytes(size: number): number {
  return Math.max(16, Math.ceil((size * 4) / 16) * 16);
}

/** A WebGPU executable, with the generated shaders kept for inspection. */
export interface WebgpuExecutable extends Executable {
  readonly shaders: readonly KernelShader[];
}

/**
 * Compiles a kernel program on a device: one pipeline per kernel (cached by
 * WGSL text), one device buffer per program buffer (from the pool), const
 * buffers written once, bind groups built once.
 *
 * Each run writes the activations, writes parameters (role `param`) only
 * the first time and whenever a different typed array is passed for them
 * (identity, not contents: a parameter array changed in place is not seen
 * until a new array is passed), records every kernel into one compute pass
 * of one command encoder, copies only the outputs to mappable buffers,
 * submits once and reads them back. Runs of one executable are serialised.
 */
export async function compileOnDevice(ctx: GpuContext, program: KernelProgram, variants: VariantOverrides = {}): Promise<WebgpuExecutable> {
  assertKernelProgram(program);
  ctx.assertAlive();
  const d = ctx.device;
  for (const b of program.buffers) {
    if (b.size * 4 > ctx.maxBindingBytes) {
      throw new TesseraError(`buffer %${b.name} (${b.dtype}[${b.shape.join(',')}]) needs ${b.size * 4} bytes, more than the device's largest storage binding (${ctx.maxBindingBytes} bytes)`);
    }
  }
  const shaders = emitProgramShaders(program, { ...ctx.target, ...variants });
  // Every dispatch in launch order: each kernel's prepasses, then the kernel.
  const steps = shaders.flatMap((s) => [...(s.prepasses ?? []).map((p) => ({ shader: p as KernelShader, owner: s, paramsOnly: (p as Prepass).paramsOnly })), { shader: s, owner: s, paramsOnly: false }]);
  const pipelines = await Promise.all(steps.map(({ shader }) => ctx.pipelines.pipeline(shader)));

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const buffers = program.buffers.map((b) => ctx.pool.acquire(deviceBytes(b.size), usage, `${program.name}:%${b.name}`));
  program.buffers.forEach((b, i) => {
    if (!b.data) return;
    const full = b.data.length === 1 ? new Array<number>(b.size).fill(b.data[0]!) : b.data;
    d.queue.writeBuffer(buffers[i]!, 0, toStorage(b.dtype, full));
  });
  const textures = new TextureSet(d);
  const bindGroups = steps.map(({ shader, owner }) =>
    d.createBindGroup({
      label: shader.name,
      layout: ctx.pipelines.layout(shader.bindings),
      entries: shader.bindings.map((bd, i) => ({
        binding: i,
        resource: isTextureBinding(bd) ? textures.get(owner.textures![bd.texture]!, bd.texture).createView() : { buffer: buffers[bd.buffer]! },
      })),
    }),
  );
  const staging = program.outputs.map(({ buffer }) => ctx.pool.acquire(deviceBytes(program.buffers[buffer]!.size), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${program.name}:read`));
  const uploadedParams = new Map<number, TensorData>();
  // Whether parameters changed since the parameter-only prepasses last ran.
  let paramsDirty = true;
  let disposed = false;
  let queue: Promise<unknown> = Promise.resolve();

  const runOnce = async (inputs: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>> => {
    if (disposed) throw new TesseraError('this executable has been disposed');
    ctx.assertAlive();
    for (const { name, buffer } of program.inputs) {
      const decl = program.buffers[buffer]!;
      const v = inputs[name];
      if (!v) throw new TesseraError(`missing input '${name}' (${decl.dtype}[${decl.shape.join(',')}])`);
      if (v.constructor.name !== ARRAY_FOR[decl.dtype]) throw new TesseraError(`input '${name}' must be a ${ARRAY_FOR[decl.dtype]} for dtype ${decl.dtype}, got ${v.constructor.name}`);
      if (v.length !== decl.size) throw new TesseraError(`input '${name}' of shape [${decl.shape.join(',')}] needs ${decl.size} elements, got ${v.length}`);
    }
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    for (const { name, buffer } of program.inputs) {
      const v = inputs[name]!;
      if (program.buffers[buffer]!.role === 'param') {
        if (uploadedParams.get(buffer) === v) continue;
        uploadedParams.set(buffer, v);
        paramsDirty = true;
      }
      d.queue.writeBuffer(buffers[buffer]!, 0, toStorage(program.buffers[buffer]!.dtype, v));
    }
    const enc = d.createCommandEncoder({ label: program.name });
    const pass = enc.beginComputePass({ label: program.name });
    steps.forEach(({ shader, paramsOnly }, i) => {
      if (paramsOnly && !paramsDirty) return;
      pass.setPipeline(pipelines[i]!);
      pass.setBindGroup(0, bindGroups[i]!);
      pass.dispatchWorkgroups(...shader.dispatch);
    });
    pass.end();
    program.outputs.forEach(({ buffer }, i) => enc.copyBufferToBuffer(buffers[buffer]!, 0, staging[i]!, 0, deviceBytes(program.buffers[buffer]!.size)));
    d.queue.submit([enc.finish()]);
    const validation = await d.popErrorScope();
    const oom = await d.popErrorScope();
    if (validation || oom) {
      // A failed submit leaves the parameters' state unknown: upload them again next time.
      uploadedParams.clear();
      paramsDirty = true;
      throw new TesseraError(`running ${program.name} on WebGPU failed: ${(validation ?? oom)!.message}`);
    }
    paramsDirty = false;
    try {
      await Promise.all(staging.map((s) => s.mapAsync(GPUMapMode.READ)));
    } catch (e) {
      ctx.assertAlive();
      throw new TesseraError(`reading the outputs of ${program.name} back failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out: Record<string, TensorData> = {};
    program.outputs.forEach(({ name, buffer }, i) => {
      const decl = program.buffers[buffer]!;
      out[name] = fromStorage(decl.dtype, staging[i]!.getMappedRange(), decl.size);
      staging[i]!.unmap();
    });
    return out;
  };

  return {
    shaders,
    run(inputs) {
      const result = queue.then(() => runOnce(inputs));
      queue = result.catch(() => undefined);
      return result;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      // After the runs in flight; buffers of a lost device are destroyed rather than pooled.
      void queue.then(() => {
        textures.destroy();
        for (const b of [...buffers, ...staging]) {
          if (ctx.lostReason === undefined) ctx.pool.release(b);
          else b.destroy();
        }
      });
    },
  };
}

/**
 * The staging textures of one executable: one per texture a kernel keeps
 * between runs, and one per size for those every run rewrites before use
 * and slot (kernels run one after another, so they can share it).
 */
class TextureSet {
  private readonly shared = new Map<string, GPUTexture>();
  private readonly owned = new Map<ShaderTexture, GPUTexture>();

  constructor(private readonly device: GPUDevice) {}

  /** The texture backing `t`, texture number `slot` of its kernel (two slots of one kernel never share). */
  get(t: ShaderTexture, slot: number): GPUTexture {
    const key = `${slot}:${t.width}x${t.height}`;
    const found = t.shared ? this.shared.get(key) : this.owned.get(t);
    if (found) return found;
    const tex = this.device.createTexture({
      label: t.shared ? `staging ${key}` : t.label,
      size: [t.width, t.height],
      format: 'rgba32float',
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.STORAGE_BINDING,
    });
    if (t.shared) this.shared.set(key, tex);
    else this.owned.set(t, tex);
    return tex;
  }

  /** Destroys every texture (they hold native memory the garbage collector does not see). */
  destroy(): void {
    for (const t of [...this.shared.values(), ...this.owned.values()]) t.destroy();
  }
}
