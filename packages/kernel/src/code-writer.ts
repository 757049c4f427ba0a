/** Accumulates indented lines of generated source (JavaScript, WGSL): what every code emitter writes through. */
export class CodeWriter {
  private readonly lines: string[] = [];

  /** `depth`: the indentation of the first line (1 inside a function body). */
  constructor(private depth = 0) {}

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
