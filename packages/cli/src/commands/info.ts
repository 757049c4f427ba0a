/**
 * `tessera info [--json]`: the backends available in this process and the
 * WebGPU adapter the webgpu backend finds (TESSERA_WEBGPU_ADAPTER picks one).
 */
import { availableBackends } from '@tessera/compiler';
import { type AdapterReport, createWebgpuBackend, describeAdapter } from '@tessera/backend-webgpu';
import { type Command, UsageError } from '../command.ts';

const USAGE = `usage: tessera info [--json] [--verbose]

  Lists the backends compile() accepts and the WebGPU adapter the webgpu
  backend would run on: how it was found (Dawn's default backend, Dawn's
  OpenGL ES backend on Mesa llvmpipe, or navigator.gpu), its name, and the
  limits the device was created with. Without an adapter it says why and
  what to install.

  --json      print the same as one JSON object
  --verbose   also try adapter sources that can only fail here, showing Dawn's own
              messages (on Linux without a Vulkan loader, Dawn's default backend:
              skipped otherwise; TESSERA_DEBUG=1 does the same for every command)

  Environment: TESSERA_WEBGPU_ADAPTER=auto|default|opengles picks the adapter;
  TESSERA_WEBGPU_TIMEOUT_MS bounds each adapter and device request.`;

/** What `info` found: the backends and the WebGPU adapter or why there is none. */
export interface InfoReport {
  readonly backends: readonly string[];
  readonly webgpu: { readonly adapter: AdapterReport } | { readonly error: string };
}

/** Collects the report: creates a WebGPU device to see its adapter, then destroys it. */
export async function collectInfo(verbose = false): Promise<InfoReport> {
  const backends = availableBackends();
  try {
    const be = await createWebgpuBackend(verbose ? { verbose } : {});
    be.destroy();
    return { backends, webgpu: { adapter: be.adapter } };
  } catch (e) {
    return { backends, webgpu: { error: e instanceof Error ? e.message : String(e) } };
  }
}

/** The report as text lines. */
export function formatInfo(r: InfoReport): string {
  const lines = [`backends: ${r.backends.join(', ')}`];
  if ('error' in r.webgpu) {
    lines.push(`webgpu: unavailable: ${r.webgpu.error}`);
  } else {
    const a = r.webgpu.adapter;
    lines.push(`webgpu adapter: ${describeAdapter(a)}`);
    lines.push(`  limits: ${Object.entries(a.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const t of a.tried) lines.push(`  tried first: ${t}`);
  }
  return lines.join('\n');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'list the available backends and the WebGPU adapter',
  usage: USAGE,
  async run(args) {
    const unknown = args.filter((a) => a !== '--json' && a !== '--verbose');
    if (unknown.length) throw new UsageError(`unexpected argument '${unknown[0]}'`);
    const report = await collectInfo(args.includes('--verbose'));
    process.stdout.write(`${args.includes('--json') ? JSON.stringify(report, null, 2) : formatInfo(report)}\n`);
    return 0;
  },
};
