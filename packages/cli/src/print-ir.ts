import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Instrument, printState } from '@tessera/passes';

/** Writes the IR after every pass (or only after passes that changed it) to `dir/NNN_passName.tir`. */
export function printIr(dir: string, onlyChanged = false): Instrument {
  return {
    afterPass({ index, pass, after, changed }) {
      if (onlyChanged && !changed) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${String(index).padStart(3, '0')}_${pass.name}.tir`), printState(after));
    },
  };
}

