import { describe, expect, it } from 'vitest';
import { ProgramBuilder, allOps, tensorType } from '@tessera/ir';
import { LOWERING, type PassEvent, compileProgram, isRootOp, lowerRule } from '../src/index.ts';
import { reductionStages, rowStages } from '../src/lower/reduce-stages.ts';

describe('the lowering rules agree with the registry', () => {
  it('every op of a root fusion class (reduction, contraction, opaque) has a kernel template or is expanded first', () => {
    const templates = new Set(['matmul', 'conv2d', 'reduce', 'row', 'attention', 'attention_probs', 'decompose']);
    for (const d of allOps()) {
      const rooted = ['reduction', 'contraction', 'opaque'].includes(d.fusion);
      if (rooted) expect(templates.has(lowerRule(d.name).kind), `${d.name} (${d.fusion})`).toBe(true);
      expect(isRootOp(d.name), d.name).toBe(rooted && lowerRule(d.name).kind !== 'decompose');
    }
  });

  it("every 'reduce' op has its stages, every 'row' op its row rule (layer_norm and rms_norm read weights in lower.ts)", () => {
    for (const d of allOps()) {
      const kind = LOWERING[d.name].kind;
      if (kind === 'reduce') expect(reductionStages(d.name), d.name).toBeDefined();
      if (kind === 'row' && d.name !== 'layer_norm' && d.name !== 'rms_norm') expect(rowStages(d.name), d.name).toBeDefined();
    }
  });

  it("only ops with a decomposition are 'decompose' or expand before fusion", () => {
    for (const d of allOps()) {
      const r = lowerRule(d.name);
      if (r.kind === 'decompose' || ('expandWhen' in r && r.expandWhen)) expect(d.decompose, d.name).toBeDefined();
    }
  });
});

describe('decompose-composites', () => {
  /** The graph after each pass of compiling a program (fuse on or off). */
  function graphs(build: (b: ProgramBuilder) => void, disabled: readonly string[] = []): Map<string, string[]> {
    const b = new ProgramBuilder('p');
    build(b);
    const seen = new Map<string, string[]>();
    const record = { afterPass: (e: PassEvent) => void seen.set(e.pass.name, e.after.graph.nodes.map((n) => n.op)) };
    compileProgram(b.build(), { instruments: [record], disabled });
    return seen;
  }

  it('expands the composites the fused lowering has no kernel for: tril/triu and a small depthwise conv2d', () => {
    const seen = graphs((b) => {
      const x = b.input('x', tensorType('f32', [1, 3, 5, 5]));
      const w = b.param('w', tensorType('f32', [3, 1, 3, 3]));
      b.output('t', b.emit('tril', [b.emit('gelu', [x])]));
      b.output('c', b.emit('conv2d', [x, w], { groups: 3, padding: [1, 1] }));
    });
    const after = seen.get('decompose-composites')!;
    expect(after).not.toContain('tril');
    expect(after).not.toContain('conv2d');
    // gelu has a kernel (its decomposition is computed inline by the lowering): kept for fusion.
    expect(after).toContain('gelu');
  });

  it('keeps a conv2d that becomes an implicit GEMM, and expands every composite when fusion is off', () => {
    const build = (b: ProgramBuilder) => {
      const x = b.input('x', tensorType('f32', [1, 3, 5, 5]));
      const w = b.param('w', tensorType('f32', [4, 3, 3, 3]));
      b.output('c', b.emit('silu', [b.emit('conv2d', [x, w])]));
    };
    expect(graphs(build).get('decompose-composites')).toEqual(['conv2d', 'silu']);
    const unfused = graphs(build, ['fuse']).get('decompose-composites')!;
    expect(unfused).not.toContain('conv2d');
    expect(unfused).not.toContain('silu');
  });
});
