/**
 * @tessera/ir/node: the parts of the IR that need Node built-ins (safetensors
 * files on disk, atomic output files). Everything else is in `@tessera/ir`,
 * which imports no `node:` module and so bundles for a browser as it is.
 */
export { readSafetensorsFile, writeSafetensorsFile } from './io/safetensors-file.ts';
export { fsErrorReason, writeFileAtomic } from './io/files.ts';
