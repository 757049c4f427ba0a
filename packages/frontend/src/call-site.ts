/**
 * Where the user's DSL call is: the first stack frame outside the DSL's own
 * code. Only the stack trace is read, never a file, and no Node built-in is
 * imported, so the DSL traces in a browser too. Node's path and URL helpers
 * are used where Node is there (through process.getBuiltinModule), to show
 * file URLs as paths relative to the working directory.
 */
import type { SourceLoc } from '@tessera/ir';

/** A stack frame as V8 writes it (`at fn (LOCATION:line:col)`, `at LOCATION:line:col`) or Firefox and Safari do (`fn@LOCATION:line:col`). */
const FRAME = /^\s*(?:at (?:.*?\()?|[^@\s]*@)(.+?):(\d+):(\d+)\)?$/;

/** The Node built-ins this module uses where they exist. */
interface NodeHelpers {
  readonly path: typeof import('node:path');
  readonly url: typeof import('node:url');
  readonly cwd: () => string;
}

let nodeHelpers: NodeHelpers | null | undefined;

/** Node's path and url modules and the working directory, or null outside Node (reached without an import a bundler would resolve). */
function node(): NodeHelpers | null {
  if (nodeHelpers !== undefined) return nodeHelpers;
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd?: () => string } }).process;
  const get = typeof proc?.getBuiltinModule === 'function' ? proc.getBuiltinModule.bind(proc) : undefined;
  const path = get?.('node:path') as NodeHelpers['path'] | undefined;
  const url = get?.('node:url') as NodeHelpers['url'] | undefined;
  return (nodeHelpers = path && url && typeof proc?.cwd === 'function' ? { path, url, cwd: proc.cwd.bind(proc) } : null);
}

/** A frame's location as the stack names it: a path, a file URL, or (in a browser) a page's script URL. */
interface RawFrame {
  readonly location: string;
  readonly line: number;
  readonly col: number;
}

/** Parses one stack line, or undefined for native, eval and Node-internal frames. */
function rawFrame(line: string): RawFrame | undefined {
  const m = FRAME.exec(line);
  if (!m) return undefined;
  const location = m[1]!;
  if (location.startsWith('node:') || location.includes('<anonymous>') || location.startsWith('eval at') || location.includes('> eval')) return undefined;
  return { location, line: Number(m[2]), col: Number(m[3]) };
}

/** A file URL as a path (Node's conversion where Node is there), or undefined for a location that is not one. */
function fileUrlPath(location: string): string | undefined {
  if (!location.startsWith('file://')) return undefined;
  const n = node();
  return n ? n.url.fileURLToPath(location) : decodeURIComponent(new URL(location).pathname);
}

/** Whether `location` is an absolute path (POSIX, or a Windows drive or UNC path). */
function isAbsolutePath(location: string): boolean {
  return location.startsWith('/') || /^[A-Za-z]:[\\/]/.test(location) || location.startsWith('\\\\');
}

/** A path as users see it: relative to the working directory when inside it (in Node), else (and URLs) as given. */
export function displayPath(file: string): string {
  const n = node();
  if (!n || !n.path.isAbsolute(file)) return file;
  const rel = n.path.relative(n.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !n.path.isAbsolute(rel) ? rel : file;
}

/** displayPath of a call site's file, kept per file and working directory (every op of a model file asks for the same few). */
const callSitePaths = new Map<string, string>();
function callSitePath(file: string): string {
  const key = `${node()?.cwd() ?? ''}\0${file}`;
  let shown = callSitePaths.get(key);
  if (shown === undefined) callSitePaths.set(key, (shown = displayPath(file)));
  return shown;
}

/**
 * Parses one stack line into a file and 1-based position: an absolute path
 * (file URLs converted), or a page's http(s) URL in a browser; undefined for
 * native, eval and Node-internal frames.
 */
export function parseFrame(line: string): { file: string; line: number; col: number } | undefined {
  const f = rawFrame(line);
  if (!f) return undefined;
  const file = normalized(f.location);
  if (!isAbsolutePath(file) && !/^https?:\/\//.test(file)) return undefined;
  return { file, line: f.line, col: f.col };
}

/**
 * The DSL's own code as stack frames name it: the folder of this module when
 * it is a file of its own (the sources, or a package's built files), or just
 * this file when a bundler merged it with others (then every frame of that
 * bundle is the DSL's, the user's code included: no call site is found).
 */
interface OwnCode {
  readonly file: string;
  readonly folder: string | undefined;
}

let ownCode: OwnCode | null | undefined;

/** normalized()'s results: a trace takes a stack per op, and its frames name a few files again and again. */
const normalizedLocations = new Map<string, string>();

/** A frame's location without a loader's query (tsx marks some files `?tsx-...`), file URLs as paths. */
function normalized(location: string): string {
  let file = normalizedLocations.get(location);
  if (file === undefined) {
    const plain = location.replace(/[?#].*$/, '');
    file = fileUrlPath(plain) ?? plain;
    normalizedLocations.set(location, file);
  }
  return file;
}

/** Where this module is, from the first frame of a stack taken here (so in the same form as every other frame). */
function own(): OwnCode | null {
  if (ownCode !== undefined) return ownCode;
  const here = (new Error().stack ?? '').split('\n').map(rawFrame).find((f) => f !== undefined);
  if (!here) return (ownCode = null);
  return (ownCode = ownCodeAt(normalized(here.location)));
}

/** The DSL's own code, given this module's (normalized) file: its folder when the file is this module's own, else the file alone (a bundle). */
function ownCodeAt(file: string): OwnCode {
  const cut = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  const ownFile = /^call-site\.[cm]?[jt]s$/.test(file.slice(cut + 1));
  return { file, folder: ownFile && cut >= 0 ? file.slice(0, cut + 1) : undefined };
}

/** Whether a frame's (normalized) file belongs to the DSL itself, so it is not a user's call site. */
function isInternal(file: string, code: OwnCode): boolean {
  return file === code.file || (code.folder !== undefined && file.startsWith(code.folder));
}

/** What V8's structured stack gives of a frame (its CallSite), unmapped. */
interface V8CallSite {
  getFileName(): string | null | undefined;
}

/** The raw frames' files of the current stack below `above` (V8: CallSites, not source-mapped), or undefined outside V8. */
function rawFrameFiles(above: (...args: never[]) => unknown, limit: number): (string | undefined)[] | undefined {
  const E = Error as ErrorConstructor & { captureStackTrace?: (o: object, f?: unknown) => void; prepareStackTrace?: (e: Error, s: V8CallSite[]) => unknown };
  if (typeof E.captureStackTrace !== 'function') return undefined;
  const [prepare, saved] = [E.prepareStackTrace, E.stackTraceLimit];
  E.prepareStackTrace = (_e, sites) => sites;
  E.stackTraceLimit = limit;
  try {
    const holder: { stack?: unknown } = {};
    E.captureStackTrace(holder, above);
    return Array.isArray(holder.stack) ? (holder.stack as V8CallSite[]).map((c) => c.getFileName() ?? undefined) : undefined;
  } finally {
    E.prepareStackTrace = prepare;
    E.stackTraceLimit = saved;
  }
}

/** The DSL's own files as raw (unmapped) frames name them: how `own()` is found, from a structured stack. */
let ownRawCode: OwnCode | null | undefined;
function ownRaw(): OwnCode | null {
  if (ownRawCode !== undefined) return ownRawCode;
  const file = rawFrameFiles(ownRaw, 1)?.[0];
  if (file === undefined) return (ownRawCode = null);
  return (ownRawCode = ownCodeAt(normalized(file)));
}

/** DSL calls nest (a module's forward calls ops that call Tensor methods), so the default of 10 frames can stop before the user's code. */
const MAX_FRAMES = 100;

/**
 * The user's source position of the DSL call in progress: the first stack
 * frame outside this package. Under tsx (and vitest) stack traces are
 * source-mapped, so this is the position in the user's TypeScript; in a
 * browser it is the position in the page's script that made the call.
 * Where the engine is V8, the user's frame is first found among the raw
 * (unmapped) frames, and only the stack up to it is then formatted: a
 * source-mapped stack costs per frame, and a trace takes one per op.
 */
export function userCallSite(): SourceLoc | undefined {
  const code = own();
  if (!code) return undefined;
  const raw = ownRaw();
  const files = raw ? rawFrameFiles(userCallSite, MAX_FRAMES) : undefined;
  let limit = MAX_FRAMES;
  if (raw && files) {
    const first = files.findIndex((f) => f !== undefined && !f.startsWith('node:') && !isInternal(normalized(f), raw));
    // No frame outside the DSL (a bundle holding the user's code too, or a stack too deep): as the text would say.
    if (first < 0) return undefined;
    limit = first + 1;
  }
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  const holder: { stack?: string } = {};
  const E = Error as ErrorConstructor & { captureStackTrace?: (o: object, f?: unknown) => void };
  if (typeof E.captureStackTrace === 'function') E.captureStackTrace(holder, userCallSite);
  else holder.stack = new Error().stack;
  Error.stackTraceLimit = saved;
  for (const line of (holder.stack ?? '').split('\n').slice(1)) {
    const f = parseFrame(line);
    if (f && !isInternal(f.file, code)) return { file: callSitePath(f.file), line: f.line, col: f.col };
  }
  return undefined;
}
