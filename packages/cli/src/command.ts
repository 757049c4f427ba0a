/** One `tessera` subcommand. Adding a command means one file under commands/ and one line in main.ts. */
export interface Command {
  /** The word after `tessera` (e.g. `compile`). */
  readonly name: string;
  /** One line for `tessera --help`. */
  readonly summary: string;
  /** Full usage text for `tessera NAME --help`. */
  readonly usage: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** An error in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
