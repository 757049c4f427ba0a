/** @tessera/cli: the `tessera` command line. */
export { main } from './main.ts';
export type { Command } from './command.ts';
export { UsageError } from './command.ts';
