import { TesseraError } from '@tessera/ir';
import { type Executable, type Inputs, type KernelProgram, type KernelTiming, type Outputs, type TimingMethod, assertKernelProgram, describeBuffer, disposable, formatBytes, kernelSignature, outputRecord } from '@tessera/kernel';
import { type AdapterReport, describeAdapter } from '../device/adapter.ts';
import type { GpuContext } from '../device/context.ts';
import { emitProgramShaders } from '../wgsl/emit.ts';
import { FAULTS_BUFFER, faultLayout } from '../wgsl/faults.ts';
import { type AttentionVariant, type KernelShader, type Precision, type WgslTarget, type MatmulVariant, type ReduceVariant, type ShaderTexture, isTextureBinding } from '../wgsl/module.ts';

/** Per-compile choice of algorithms, over the device's table (tests and benchmarks force each variant this way). */
export interface VariantOverrides {
  readonly matmul?: MatmulVariant;
  readonly reduce?: ReduceVariant;
  readonly attention?: AttentionVariant;
  readonly tiledTiling?: WgslTarget['tiledTiling'];
  readonly int8?: WgslTarget['int8'];
  /** false: the split-K matmul is never chosen by the heuristic (the device check's split-K off). */
  readonly splitK?: boolean;
  /** Arithmetic of the GPU matmuls (WgslTarget.precision); 'f16' needs the device's shader-f16. */
  readonly precision?: Precision;
}
import { FaultBuffer } from './fault-buffer.ts';
import { fromStorage, toStorage } from './host-data.ts';
import { InputStager, type StagedWrite } from './input-stager.ts';
import { DISPATCHES_PER_QUERY_SET, timestampPairsToMs } from './profile.ts';

/** Bytes of the device buffer behind a program buffer: 4 per element (bool as u32), rounded up to 16. */
export function deviceBytes(size: number): number {
  return Math.max(16, Math.ceil((size * 4) / 16) * 16);
}

/** A WebGPU executable, with the generated shaders kept for inspection. */
export interface WebgpuExecutable extends Executable {
  readonly backend: { readonly name: 'webgpu'; readonly adapter: AdapterReport };
  readonly shaders: readonly KernelShader[];
  /** Places inputs that later runs may leave out (weights), written to the device once. */
  setInputs(inputs: Inputs): void;
  /**
   * Runs once as `run` does (same input checks and upload rules, queued
   * with the runs) and times every dispatch instead of reading the outputs
   * back: one entry per dispatched shader in launch order, prepasses their
   * own entries, parameter-only prepasses only when they ran (the first
   * time, or after a new parameter array).
   */
  profile(inputs: Inputs): Promise<KernelTiming[]>;
}

/**
 * Compiles a kernel program on a device: one pipeline per kernel (cached by
 * WGSL text), one device buffer per program buffer (from the pool), const
 * buffers written once, bind groups built once.
 *
 * Inputs are checked and taken when run() is called (see InputStager:
 * the caller may refill its arrays at once); weights placed with setInputs
 * are written once, and the parameter-only prepasses run only after
 * parameters were written. Each run records every kernel into
 * one compute pass of one command encoder, copies only the outputs (and the
 * gather fault words, see FaultBuffer) to mappable buffers, submits once and
 * reads them back. Runs of one executable are serialised; runs called
 * before dispose() complete, and the buffers are released after them.
 *
 * A profile dispatches each shader in a compute pass of its own, timed by
 * GPU timestamps where the device has `timestamp-query`, else by a submit
 * per dispatch timed on the host (see `TimingMethod`).
 */
export async function compileOnDevice(ctx: GpuContext, program: KernelProgram, variants: VariantOverrides = {}): Promise<WebgpuExecutable> {
  assertKernelProgram(program);
  ctx.assertAlive();
  const d = ctx.device;
  // Before anything is allocated: every buffer is bound whole, and read back through a buffer of its size.
  const maxBytes = Math.min(ctx.maxBindingBytes, ctx.report.limits.maxBufferSize ?? Infinity);
  for (const b of program.buffers) {
    if (deviceBytes(b.size) > maxBytes) {
      throw new TesseraError(`webgpu: buffer ${describeBuffer(b)} needs ${formatBytes(deviceBytes(b.size))}, more than the device binds or holds in one buffer: ${formatBytes(maxBytes)}`);
    }
  }
  if (variants.precision === 'f16' && !d.features.has('shader-f16')) {
    throw new TesseraError(`webgpu: precision 'f16' needs the adapter's shader-f16 feature, which ${describeAdapter(ctx.report)} does not have (compile with precision 'f32')`);
  }
  const shaders = emitProgramShaders(program, { ...ctx.target, ...variants });
  // Every dispatch in launch order: each kernel's prepasses, then the kernel.
  const steps = shaders.flatMap((s) => [...(s.prepasses ?? []).map((p) => ({ shader: p as KernelShader, owner: s, paramsOnly: p.paramsOnly })), { shader: s, owner: s, paramsOnly: false }]);
  const pipelines = await Promise.all(steps.map(({ shader }) => ctx.pipelines.pipeline(shader)));

  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  // WebGPU states no total memory: a device that cannot hold every buffer says so in this scope, and compiling fails cleanly.
  d.pushErrorScope('out-of-memory');
  const buffers = program.buffers.map((b) => ctx.pool.acquire(deviceBytes(b.size), usage, `${program.name}:%${b.name}`));
  const faults = new FaultBuffer(ctx, faultLayout(program), program.name);
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
        resource: isTextureBinding(bd) ? textures.get(owner.textures![bd.texture]!, bd.texture).createView() : { buffer: bd.buffer === FAULTS_BUFFER ? faults.buffer! : buffers[bd.buffer]! },
      })),
    }),
  );
  const staging = program.outputs.map(({ buffer }) => ctx.pool.acquire(deviceBytes(program.buffers[buffer]!.size), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${program.name}:read`));
  const outOfMemory = await d.popErrorScope();
  if (outOfMemory) {
    for (const b of [...buffers, ...staging]) b.destroy();
    faults.release();
    const total = [...program.buffers.map((b) => b.size), ...program.outputs.map(({ buffer }) => program.buffers[buffer]!.size)].reduce((t, n) => t + deviceBytes(n), 0);
    const largest = program.buffers.reduce((a, b) => (b.size > a.size ? b : a));
    throw new TesseraError(`webgpu: the device could not hold the buffers of program @${program.name} (${formatBytes(total)} in all, the largest ${describeBuffer(largest)}): ${outOfMemory.message}`);
  }
  const inputs = new InputStager(program, (buffer, data) => d.queue.writeBuffer(buffers[buffer]!, 0, data));
  let queue: Promise<unknown> = Promise.resolve();
  const timestamps = d.features.has('timestamp-query');
  let queries: TimestampQueries | undefined;

  const signature = kernelSignature(program);

  const alive = (doing: string): void => {
    inputs.assertOpen(doing);
    ctx.assertAlive();
  };

  /** The steps a run dispatches now, in launch order: parameter-only prepasses only when the parameters changed. */
  const dispatched = (): number[] => steps.flatMap(({ paramsOnly }, i) => (paramsOnly && !inputs.paramsChanged ? [] : [i]));

  const record = (pass: GPUComputePassEncoder, i: number): void => {
    pass.setPipeline(pipelines[i]!);
    pass.setBindGroup(0, bindGroups[i]!);
    pass.dispatchWorkgroups(...steps[i]!.shader.dispatch);
  };

  const pushScopes = (): void => {
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
  };

  /** Pops the scopes `pushScopes` pushed; on an error forgets what is on the device and throws. */
  const popScopes = async (doing: string): Promise<void> => {
    const validation = await d.popErrorScope();
    const oom = await d.popErrorScope();
    if (validation || oom) {
      // A failed submit may not have run the parameter-only prepasses: run them next time.
      inputs.paramsChanged = true;
      throw new TesseraError(`${doing} ${program.name} on WebGPU failed: ${(validation ?? oom)!.message}`);
    }
  };

  const mapForRead = async (bufs: readonly GPUBuffer[], what: string): Promise<void> => {
    try {
      await Promise.all(bufs.map((s) => s.mapAsync(GPUMapMode.READ)));
    } catch (e) {
      ctx.assertAlive();
      throw new TesseraError(`reading ${what} of ${program.name} back failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  /**
   * Starts a taken run: writes what was staged for it, then `encode`s its
   * commands and submits them (one scope of error capture around it all);
   * the stager learns it submitted even when something throws first.
   */
  const submitRun = (writes: readonly StagedWrite[], encode: (enc: GPUCommandEncoder) => void, label: string): Promise<void> => {
    try {
      ctx.assertAlive();
      pushScopes();
      inputs.flush(writes);
      const enc = d.createCommandEncoder({ label });
      encode(enc);
      inputs.paramsChanged = false;
      d.queue.submit([enc.finish()]);
    } finally {
      inputs.submitted();
    }
    return popScopes('running');
  };

  const runOnce = async (writes: readonly StagedWrite[]): Promise<Outputs> => {
    await submitRun(
      writes,
      (enc) => {
        const pass = enc.beginComputePass({ label: program.name });
        for (const i of dispatched()) record(pass, i);
        pass.end();
        program.outputs.forEach(({ buffer }, i) => enc.copyBufferToBuffer(buffers[buffer]!, 0, staging[i]!, 0, deviceBytes(program.buffers[buffer]!.size)));
        faults.copyOut(enc);
      },
      program.name,
    );
    await mapForRead(faults.read ? [...staging, faults.read] : staging, 'the outputs');
    const out = outputRecord(
      signature.outputs,
      program.outputs.map(({ buffer }, i) => {
        const decl = program.buffers[buffer]!;
        const values = fromStorage(decl.dtype, staging[i]!.getMappedRange(), decl.size);
        staging[i]!.unmap();
        return values;
      }),
    );
    await faults.check(mapForRead);
    return out;
  };

  /** GPU time per dispatch: one compute pass each with timestamps at its beginning and end, up to DISPATCHES_PER_QUERY_SET per submit. */
  const timeWithTimestamps = async (order: readonly number[]): Promise<number[]> => {
    const ms: number[] = [];
    for (let start = 0; start < order.length; start += DISPATCHES_PER_QUERY_SET) {
      pushScopes();
      const chunk = order.slice(start, start + DISPATCHES_PER_QUERY_SET);
      queries ??= createTimestampQueries(d, Math.min(steps.length, DISPATCHES_PER_QUERY_SET), program.name);
      const enc = d.createCommandEncoder({ label: `${program.name} (profile)` });
      chunk.forEach((i, j) => {
        const pass = enc.beginComputePass({ label: steps[i]!.shader.name, timestampWrites: { querySet: queries!.set, beginningOfPassWriteIndex: 2 * j, endOfPassWriteIndex: 2 * j + 1 } });
        record(pass, i);
        pass.end();
      });
      enc.resolveQuerySet(queries.set, 0, 2 * chunk.length, queries.resolve, 0);
      enc.copyBufferToBuffer(queries.resolve, 0, queries.read, 0, 16 * chunk.length);
      d.queue.submit([enc.finish()]);
      await popScopes('profiling');
      await mapForRead([queries.read], 'the GPU timestamps');
      ms.push(...timestampPairsToMs(new BigUint64Array(queries.read.getMappedRange(0, 16 * chunk.length)), chunk.length));
      queries.read.unmap();
    }
    return ms;
  };

  /** Host time per dispatch: the uploads finish first, then each dispatch is its own submit, timed until the queue reports it done. */
  const timeOnHost = async (order: readonly number[]): Promise<number[]> => {
    await d.queue.onSubmittedWorkDone();
    const ms: number[] = [];
    for (const i of order) {
      pushScopes();
      const enc = d.createCommandEncoder({ label: `${program.name} (profile)` });
      const pass = enc.beginComputePass({ label: steps[i]!.shader.name });
      record(pass, i);
      pass.end();
      const commands = enc.finish();
      const t = performance.now();
      d.queue.submit([commands]);
      await d.queue.onSubmittedWorkDone();
      ms.push(performance.now() - t);
      await popScopes('profiling');
    }
    return ms;
  };

  /** A taken profile: its submits span awaits, so the stager counts it unsubmitted (later calls copy their inputs) until the last. */
  const profileOnce = async (writes: readonly StagedWrite[]): Promise<KernelTiming[]> => {
    const method: TimingMethod = timestamps ? 'timestamp' : 'wall';
    let order: number[];
    let ms: number[];
    try {
      ctx.assertAlive();
      pushScopes();
      inputs.flush(writes);
      await popScopes('uploading the inputs of');
      order = dispatched();
      inputs.paramsChanged = false;
      ms = method === 'timestamp' ? await timeWithTimestamps(order) : await timeOnHost(order);
      if (faults.read) {
        const enc = d.createCommandEncoder({ label: `${program.name} (profile faults)` });
        faults.copyOut(enc);
        d.queue.submit([enc.finish()]);
      }
    } finally {
      inputs.submitted();
    }
    if (faults.read) {
      await mapForRead([faults.read], 'the gather faults');
      await faults.check(mapForRead);
    }
    return order.map((i, j) => {
      const { name, kind, variant, dispatch } = steps[i]!.shader;
      return { name, kind, variant, ms: ms[j]!, dispatch, method };
    });
  };

  /** Runs `fn` after every run and profile queued before it. */
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = queue.then(fn);
    queue = result.catch(() => undefined);
    return result;
  };

  /** Takes a run's inputs now (see InputStager) and queues `fn` on them; any error, even in taking them, rejects the promise. */
  const queued = <T>(doing: string, given: unknown, fn: (writes: readonly StagedWrite[]) => Promise<T>): Promise<T> => {
    let writes: StagedWrite[];
    try {
      alive(doing);
      writes = inputs.takeRun(given, doing);
    } catch (e) {
      return Promise.reject(e);
    }
    return serialised(() => fn(writes));
  };

  return disposable<WebgpuExecutable>({
    ...signature,
    backend: { name: 'webgpu', adapter: ctx.report },
    shaders,
    setInputs(given) {
      alive('setInputs()');
      inputs.setInputs(given);
    },
    run: (given) => queued('run()', given, runOnce),
    profile: (given) => queued('profile()', given, profileOnce),
    dispose() {
      if (!inputs.close()) return;
      // After the runs in flight; buffers of a lost device are destroyed rather than pooled.
      void queue.then(() => {
        textures.destroy();
        queries?.destroy();
        faults.release();
        for (const b of [...buffers, ...staging]) {
          if (ctx.lostReason === undefined) ctx.pool.release(b);
          else b.destroy();
        }
      });
    },
  });
}

/** A timestamp query set with its resolve buffer and the mappable copy it is read from. */
interface TimestampQueries {
  readonly set: GPUQuerySet;
  readonly resolve: GPUBuffer;
  readonly read: GPUBuffer;
  destroy(): void;
}

/** Query set and buffers for `dispatches` dispatches (two timestamps of 8 bytes each). */
function createTimestampQueries(d: GPUDevice, dispatches: number, label: string): TimestampQueries {
  const set = d.createQuerySet({ label: `${label}:timestamps`, type: 'timestamp', count: 2 * dispatches });
  const resolve = d.createBuffer({ label: `${label}:timestamps`, size: 16 * dispatches, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const read = d.createBuffer({ label: `${label}:timestamps read`, size: 16 * dispatches, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  return {
    set,
    resolve,
    read,
    destroy() {
      set.destroy();
      resolve.destroy();
      read.destroy();
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
