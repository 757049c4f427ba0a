/**
 * The compiler view, for the trained models or IR text pasted in: the
 * program before and after each pass, the kernel program, WGSL and wasm
 * (WAT), the memory plan (arena offsets over the kernel schedule),
 * per-kernel times, and a compare-backends panel (interp, cpu, webgpu).
 */
import type { TensorData } from '@tessera/compiler';
import { type Program, parseProgram } from '@tessera/ir';
import { type ImageSet, type Seq2SeqTransformer, type VisionTransformer, pixelValues, traceSeq2Seq, traceVit, weightsFor } from '@tessera/models';
import { formatCompareReport } from '@tessera/harness/compare';
import type { PipelineState } from '@tessera/passes';
import type { Loaded } from './assets.ts';
import { type CompiledView, compareInPage, compileForView, kernelsWat, profileKernels, stateSvg, stateText } from './compiler-session.ts';
import { byId, el, runAction } from './dom.ts';
import type { ModelBackend } from './vit-session.ts';

/** The program pasted in by default: the README's example. */
const EXAMPLE_IR = `program @mlp
input %x : f32[2,16]
param %fc1.weight : f32[32,16]
%0 = transpose(%fc1.weight) {perm = [1, 0]} : f32[16,32]
%1 = matmul(%x, %0) : f32[2,32]
%2 = gelu(%1) {approximate = "none"} : f32[2,32]
output y = %2
`;

/** A program with the input values it runs on (the trained weights; the rest drawn). */
interface Source {
  readonly program: Program;
  readonly given: Readonly<Record<string, TensorData>>;
}

/** What the view compiles: the two trained models, or the pasted text. */
export interface CompilerSources {
  readonly vit: Loaded<VisionTransformer>;
  readonly reverser: Loaded<Seq2SeqTransformer>;
  readonly sample: ImageSet;
}

/** Draws the memory plan: kernels along x, arena bytes down y, one box per temporary while it is live. */
function drawPlan(canvas: HTMLCanvasElement, view: CompiledView): void {
  const kernels = view.kernels.kernels.length;
  const arena = view.kernels.arenaBytes ?? 0;
  canvas.width = 720;
  canvas.height = 300;
  const g = canvas.getContext('2d')!;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  const [left, top, w, h] = [60, 10, canvas.width - 70, canvas.height - 40];
  const x = (k: number) => left + (k / Math.max(1, kernels)) * w;
  const y = (b: number) => top + (b / Math.max(1, arena)) * h;
  view.plan.forEach((l, i) => {
    g.fillStyle = `hsl(${(i * 47) % 360} 60% 65%)`;
    g.fillRect(x(l.first), y(l.offset), Math.max(1, x(l.last + 1) - x(l.first) - 1), Math.max(1, y(l.offset + l.bytes) - y(l.offset)));
  });
  g.strokeStyle = '#333';
  g.strokeRect(left, top, w, h);
  g.fillStyle = '#333';
  g.font = '11px sans-serif';
  g.fillText('0', left - 12, top + 10);
  g.fillText(`${(arena / 1024).toFixed(1)} KiB`, 2, top + h);
  g.fillText(`kernel 0 … ${kernels - 1} (launch order) →`, left, top + h + 16);
}

/** The view: a source picker, the compiled program's panels, profile and compare buttons. */
export class CompilerView {
  private readonly source = el('select', { id: 'compiler-source' }, el('option', { value: 'vit' }, 'ViT on Fashion-MNIST (batch 1)'), el('option', { value: 'reverse' }, 'digit-reversal Transformer (source 7, target 8)'), el('option', { value: 'ir' }, 'IR text pasted below'));
  private readonly text = el('textarea', { id: 'compiler-ir', rows: '8', cols: '80', spellcheck: 'false' });
  private readonly probes = el('input', { id: 'compiler-probes', type: 'checkbox' });
  private current: Source | undefined;

  constructor(
    private readonly sources: CompilerSources,
    private readonly backend: () => ModelBackend,
  ) {
    this.text.value = EXAMPLE_IR;
  }

  /** Fills #compiler: the program on the left, the backends (compare, kernel times) on the right. */
  mount(): void {
    const showText = () => (this.text.hidden = this.source.value !== 'ir');
    this.source.addEventListener('change', showText);
    showText();
    byId('compiler').replaceChildren(
      el('div', { class: 'column wide' },
        el('p', {}, this.source, ' ', el('label', { title: 'trace the model with attentions: an attn/<module path> output per attention module' }, this.probes, 'with attention probes'), ' ', el('button', { id: 'compiler-compile', onclick: () => this.compile() }, 'Compile')),
        this.text,
        el('div', { id: 'compiler-result' }, 'Pick a program and compile it.'),
      ),
      el('div', { class: 'column side' },
        el('h2', {}, 'Compare backends'), el('p', {}, 'interp (float64 reference), cpu (wasm) and webgpu, in this page. ', el('button', { id: 'compiler-compare', onclick: () => this.compare() }, 'Compare backends')), el('div', { id: 'compare-result' }),
        el('h2', {}, 'Per-kernel times'), el('p', {}, 'One run on the backend chosen above. ', el('button', { id: 'compiler-profile', onclick: () => this.profile() }, 'Time kernels')), el('div', { id: 'profile-result', class: 'scroll' }),
      ),
    );
  }

  /** The chosen program and its inputs. */
  private pick(): Source {
    const { vit, reverser, sample } = this.sources;
    switch (this.source.value) {
      case 'vit': {
        const program = traceVit(vit.model, 1, this.probes.checked);
        return { program, given: { ...weightsFor(program, vit.weights), pixel_values: pixelValues(sample, 0, 1) } };
      }
      case 'reverse': {
        const program = traceSeq2Seq(reverser.model, { batch: 1, srcLen: 7 }, 8, this.probes.checked);
        return { program, given: weightsFor(program, reverser.weights) };
      }
      default:
        return { program: parseProgram(this.text.value, 'pasted IR'), given: {} };
    }
  }

  /** Compiles the chosen program and shows every panel (also what the Chromium test clicks). */
  compile(): Promise<void> {
    const result = byId('compiler-result');
    return runAction(result, async () => {
      // Each compile takes the current choice; compare and profile then run what was compiled.
      this.current = this.pick();
      const view = compileForView(this.current.program);
      result.dataset.kernels = String(view.kernels.kernels.length);
      result.replaceChildren(this.passesPanel(view), ...this.codePanels(view));
    });
  }

  private passesPanel(view: CompiledView): HTMLElement {
    const before = el('div', { class: 'state', id: 'pass-before' });
    const after = el('div', { class: 'state', id: 'pass-after' });
    const form = el('select', { id: 'pass-form' }, el('option', { value: 'svg' }, 'graph pictures'), el('option', { value: 'text' }, 'IR text'));
    let shown = 0;
    // Each state is laid out once, when first shown (a pass's "before" is the previous pass's "after").
    const svgs = new Map<PipelineState, Promise<string>>();
    const fill = async (target: HTMLElement, i: number, side: 'before' | 'after') => {
      const step = view.steps[i]!;
      const state = step[side];
      if (form.value === 'text') return target.replaceChildren(el('pre', { class: 'ir' }, stateText(state)));
      const label = side === 'after' ? step.name : i > 0 ? view.steps[i - 1]!.name : 'tracing';
      if (!svgs.has(state)) svgs.set(state, stateSvg(state, label));
      target.replaceChildren('laying out…');
      const svg = await svgs.get(state)!;
      if (shown === i) target.innerHTML = svg;
    };
    const show = (i: number) => {
      shown = i;
      list.querySelectorAll('button').forEach((b, j) => b.classList.toggle('active', i === j));
      return runAction(after, async () => {
        await Promise.all([fill(before, i, 'before'), fill(after, i, 'after')]);
      });
    };
    const list = el('div', { class: 'passes' }, ...view.steps.map((s, i) => el('button', { title: s.summary, onclick: () => show(i) }, `${s.index}. ${s.name} (${s.ms.toFixed(1)} ms${s.changed ? '' : ', unchanged'})`)));
    form.addEventListener('change', () => show(shown));
    // The fusion pass first: its picture shows the kernels as clusters.
    void show(Math.max(0, view.steps.findIndex((s) => s.name === 'fuse')));
    return el('div', {}, el('h2', {}, 'Passes: the program before and after each'), el('p', {}, list, ' show ', form), el('div', { class: 'side-by-side' }, el('div', {}, el('h3', {}, 'before'), before), el('div', {}, el('h3', {}, 'after'), after)));
  }

  private codePanels(view: CompiledView): HTMLElement[] {
    const plan = el('canvas', { id: 'memory-plan' });
    drawPlan(plan, view);
    const wat = el('pre', { class: 'ir', id: 'compiler-wat' });
    const section = (title: string, body: HTMLElement, open?: () => void) => {
      const d = el('details', {}, el('summary', {}, title), body);
      if (open) d.addEventListener('toggle', () => d.open && open(), { once: true });
      return d;
    };
    return [
      el('h2', {}, `Memory plan: ${view.plan.length} temporaries in an arena of ${((view.kernels.arenaBytes ?? 0) / 1024).toFixed(1)} KiB`),
      plan,
      section(`Kernel program (${view.kernels.kernels.length} kernels)`, el('pre', { class: 'ir' }, view.kernelText)),
      section('WGSL (webgpu)', el('pre', { class: 'ir' }, view.wgsl)),
      section('WebAssembly text (cpu)', wat, () => {
        void runAction(wat, async () => {
          wat.textContent = 'disassembling…';
          wat.textContent = await kernelsWat(view.kernels);
        });
      }),
    ];
  }

  /** Times each kernel of the chosen program on the chosen backend. */
  profile(): Promise<void> {
    const result = byId('profile-result');
    const backend = this.backend();
    return runAction(result, async () => {
      const { program, given } = this.current ?? this.pick();
      result.replaceChildren(`Timing on ${backend}…`);
      const timings = await profileKernels(program, backend, given);
      const total = timings.reduce((s, t) => s + t.ms, 0);
      const rows = timings.map((t) => el('tr', {}, el('td', {}, t.name), el('td', {}, t.kind), el('td', {}, t.variant), el('td', { class: 'num' }, t.ms.toFixed(3)), el('td', {}, el('div', { class: 'bar', style: `width:${((100 * t.ms) / Math.max(total, 1e-9)).toFixed(1)}%` }))));
      result.replaceChildren(el('p', {}, `${backend}: ${timings.length} kernels, ${total.toFixed(2)} ms in all (${timings[0]?.method ?? ''} timing)`), el('table', { class: 'timings' }, el('tr', {}, el('th', {}, 'kernel'), el('th', {}, 'kind'), el('th', {}, 'variant'), el('th', {}, 'ms'), el('th', {}, '')), ...rows));
    });
  }

  /** Runs interp, cpu and webgpu on the chosen program and shows their agreement (also what the Chromium test clicks). */
  compare(): Promise<void> {
    const result = byId('compare-result');
    return runAction(result, async () => {
      const { program, given } = this.current ?? this.pick();
      result.replaceChildren('Comparing…');
      const report = await compareInPage(program, given);
      result.dataset.agree = String(report.agree);
      result.dataset.backends = [...new Set(report.rows.filter((r) => r.status === 'pass').map((r) => r.backend))].join(',');
      const rows = report.rows.map((r) => el('tr', { class: r.status }, el('td', {}, r.backend), el('td', {}, r.output ?? ''), el('td', {}, r.status), el('td', { class: 'num' }, r.maxAbsDiff?.toExponential(2) ?? ''), el('td', {}, r.message ?? '')));
      result.replaceChildren(
        el('p', { class: report.agree ? 'verdict pass' : 'verdict fail' }, report.agree ? 'every backend agrees with the interpreter' : 'backends disagree'),
        el('table', { class: 'compare' }, el('tr', {}, el('th', {}, 'backend'), el('th', {}, 'output'), el('th', {}, 'status'), el('th', {}, 'max |diff|'), el('th', {}, '')), ...rows),
        el('pre', { class: 'ir' }, formatCompareReport(report)),
      );
    });
  }
}
