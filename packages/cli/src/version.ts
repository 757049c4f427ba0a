import { readFileSync } from 'node:fs';

/** The version of @tessera/cli, read from its package.json (one directory above both src/ and the built dist/). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(manifest.version);
}
