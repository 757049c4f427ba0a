/**
 * Which files are Tessera's own: found from the file itself (the nearest
 * package.json above it), so the answer is the same in the repository, in a
 * user's node_modules and in a global install, with no repository root.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/** A `@tessera/*` package: its name and folder. */
export interface TesseraPackage {
  readonly name: string;
  readonly dir: string;
}

/** Package of each folder looked at (undefined: the nearest package.json is not a @tessera package, or there is none). */
const byDir = new Map<string, TesseraPackage | undefined>();

/** The package whose package.json is nearest above `dir`, when it is a @tessera package. */
function packageOfDir(dir: string): TesseraPackage | undefined {
  if (byDir.has(dir)) return byDir.get(dir);
  let found: TesseraPackage | undefined;
  const pj = join(dir, 'package.json');
  if (existsSync(pj)) {
    let name: unknown;
    try {
      name = (JSON.parse(readFileSync(pj, 'utf8')) as { name?: unknown }).name;
    } catch {
      // An unreadable package.json still bounds the package: not ours.
    }
    found = typeof name === 'string' && name.startsWith('@tessera/') ? { name, dir } : undefined;
  } else if (dirname(dir) !== dir) {
    found = packageOfDir(dirname(dir));
  }
  byDir.set(dir, found);
  return found;
}

/** The @tessera package `file` belongs to (by its nearest package.json), or undefined. */
export function tesseraPackageOf(file: string): TesseraPackage | undefined {
  return packageOfDir(dirname(file));
}

/**
 * Whether `file` is part of a Tessera package's code (its `src/` or built
 * `dist/` folder) rather than a user's: a test fixture or example inside
 * the repository is a user's model.
 */
export function isTesseraSource(file: string): boolean {
  const pkg = tesseraPackageOf(file);
  if (!pkg) return false;
  const top = relative(pkg.dir, file).split(sep)[0];
  return top === 'src' || top === 'dist';
}
