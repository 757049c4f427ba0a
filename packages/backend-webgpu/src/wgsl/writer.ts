import { CodeWriter } from '@tessera/kernel';

/** The WGSL emitters write through the shared code writer. */
export { CodeWriter as WgslWriter };

/** Opens one `for` loop per axis (i32 counters named by `name`), runs `body` innermost; extent-1 axes become constants. */
export function wgslLoopNest(w: CodeWriter, axes: readonly { axis: number; extent: number }[], name: (a: number) => string, body: () => void): void {
  const [first, ...rest] = axes;
  if (!first) return body();
  const v = name(first.axis);
  if (first.extent === 1) {
    // A one-trip loop would still cost a counter and a branch per point on llvmpipe.
    w.block('', () => {
      w.line(`let ${v} = 0i;`);
      wgslLoopNest(w, rest, name, body);
    });
    return;
  }
  w.block(`for (var ${v} = 0i; ${v} < ${first.extent}i; ${v}++)`, () => wgslLoopNest(w, rest, name, body));
}

/**
 * Declares `let` axis values for the flat row-major index `flat` (an i32
 * expression) over `extents`, axes numbered from `base`: divisions and
 * remainders by the constant extents, innermost first.
 */
export function decomposeIndex(w: CodeWriter, flat: string, extents: readonly number[], name: (a: number) => string, base = 0): void {
  let rest = flat;
  for (let i = extents.length - 1; i >= 0; i--) {
    const e = extents[i]!;
    const v = name(base + i);
    if (e === 1) w.line(`let ${v} = 0i;`);
    else if (i === 0) w.line(`let ${v} = ${rest};`);
    else {
      w.line(`let ${v} = ${rest} % ${e}i;`);
      const q = `q_${base + i}`;
      w.line(`let ${q} = ${rest} / ${e}i;`);
      rest = q;
    }
  }
}

/**
 * Emits a tree reduction of workgroup array `red` (size a power of two, one
 * value per invocation, already stored): halves until red[0] holds the fold
 * of all, with a barrier after each level. Every invocation must reach it.
 */
export function emitWorkgroupTree(w: CodeWriter, red: string, size: number, combine: (a: string, b: string) => string): void {
  if (size <= 1) return;
  w.block(`for (var s = ${size / 2}u; s > 0u; s >>= 1u)`, () => {
    w.block('if (lid < s)', () => w.line(`${red}[lid] = ${combine(`${red}[lid]`, `${red}[lid + s]`)};`));
    w.line('workgroupBarrier();');
  });
}
