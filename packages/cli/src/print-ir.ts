import { join } from 'node:path';
import { type Instrument, printState } from '@tessera/passes';
import { type CommandInput, writeOutput } from './outputs.ts';

/**
 * Writes the IR after every pass (or only after passes that changed it) to
 * `dir/NNN_passName.tir` (created when missing), each file atomically and
 * never over one of the command's `inputs`; `flag` names the option in errors.
 */
export function printIr(flag: string, dir: string, inputs: readonly CommandInput[], onlyChanged = false): Instrument {
  return {
    afterPass({ index, pass, after, changed }) {
      if (onlyChanged && !changed) return;
      writeOutput(flag, join(dir, `${String(index).padStart(3, '0')}_${pass.name}.tir`), printState(after), inputs);
    },
  };
}
