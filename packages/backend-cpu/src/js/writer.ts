import { CodeWriter } from '@tessera/kernel';

export { CodeWriter };

/** Opens one `for` loop per extent (axis variables named by `axisName`), runs `body` innermost. */
export function loopNest(w: CodeWriter, axes: readonly { axis: number; extent: number }[], axisName: (a: number) => string, body: () => void): void {
  const [first, ...rest] = axes;
  if (!first) return body();
  const v = axisName(first.axis);
  w.block(`for (let ${v} = 0; ${v} < ${first.extent}; ${v}++)`, () => loopNest(w, rest, axisName, body));
}
