/** Accumulates indented lines of generated source. */
export class CodeWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  /** Appends lines at the current indentation. */
  line(...ls: string[]): this {
    for (const l of ls) this.lines.push(`${'  '.repeat(this.depth)}${l}`);
    return this;
  }

  /** Writes `head {`, the body one level deeper, then `}`. */
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    return this.line('}');
  }

  /** The source so far. */
  toString(): string {
    return this.lines.join('\n');
  }
}

/** Opens one `for` loop per extent (axis variables named by `axisName`), runs `body` innermost. */
export function loopNest(w: CodeWriter, axes: readonly { axis: number; extent: number }[], axisName: (a: number) => string, body: () => void): void {
  const [first, ...rest] = axes;
  if (!first) return body();
  const v = axisName(first.axis);
  w.block(`for (let ${v} = 0; ${v} < ${first.extent}; ${v}++)`, () => loopNest(w, rest, axisName, body));
}
