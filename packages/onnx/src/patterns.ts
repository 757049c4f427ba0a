/** Placeholder: replaced below. */
import type { Program } from '@tessera/ir';
export function recognisePatterns(p: Program): Program {
  return p;
}
