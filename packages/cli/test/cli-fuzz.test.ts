/**
 * Fuzz target "CLI arguments": the CLI's main, in process, on random
 * combinations of real commands, flags and values: valid and malformed
 * files (models that throw or log, checkpoints with bad headers, absurd
 * configs), outputs that name an input (in other spellings, through links),
 * missing directories, directories where files belong, absurd numbers,
 * missing, repeated and unknown flags. Every case must exit 0, 1 or 2
 * (never 70), print no stack trace, say where the problem is when it fails,
 * and leave every input file as it was (hashed before and after). See
 * packages/harness/src/fuzz.ts for the budget.
 */
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { type ErrorVerdict, type FuzzRng, type FuzzTarget, expectCleanFuzz, fuzzBudget, fuzzTestTimeout } from '@tessera/harness';
import { type SafetensorsTensor, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { main } from '../src/main.ts';
import { capture } from './capture.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'models', 'fixtures');
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');
/** Inputs: every file here is hashed before and after each case. */
const data = mkdtempSync(join(tmpdir(), 'tessera-cli-fuzz-in-'));
/** Model files import @tessera/frontend: they must sit in the repository for vitest's resolver (also inputs). */
const models = mkdtempSync(join(import.meta.dirname, '.tmp-cli-fuzz-'));
/** Where outputs go (cleared now and then). */
const outs = mkdtempSync(join(tmpdir(), 'tessera-cli-fuzz-out-'));
afterAll(() => {
  for (const d of [data, models, outs]) rmSync(d, { recursive: true, force: true });
});

const put = (dir: string, name: string, contents: string | Uint8Array) => {
  writeFileSync(join(dir, name), contents);
  return join(dir, name);
};

/** The fixture's header JSON rewritten by `edit`, its data kept. */
function withHeader(bytes: Uint8Array, edit: (h: string) => string): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const h = new TextEncoder().encode(edit(new TextDecoder().decode(bytes.subarray(8, 8 + n))));
  const out = new Uint8Array(8 + h.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(bytes.subarray(8 + n), 8 + h.length);
  return out;
}

const TIR = `program @p
input %x : f32[2,3]
param %w : f32[3,2]
%y = matmul(%x, %w) : f32[2,2]
%z = gelu(%y) {approximate = "none"} : f32[2,2]
output z = %z
`;

/** The files the generated command lines name, by role. */
const F: Record<string, string[]> = {};

beforeAll(async () => {
  const vitW = readFileSync(join(FIXTURES, 'vit-torchvision-37tok-3head.safetensors'));
  const trW = readFileSync(join(FIXTURES, 'transformer-vocab41-3head.safetensors'));
  const vitIo = await readSafetensorsFile(join(FIXTURES, 'vit-torchvision-37tok-3head.io.safetensors'));
  const trIo = await readSafetensorsFile(join(FIXTURES, 'transformer-vocab41-3head.io.safetensors'));
  const pick = (f: typeof vitIo, ...names: string[]) => writeSafetensors(Object.fromEntries(names.map((n) => [n, f.tensors.get(n)!])) as Record<string, SafetensorsTensor>);
  const configText = (n: string) => readFileSync(join(FIXTURES, `${n}.json`), 'utf8');
  const vitConfig = JSON.parse(configText('vit-torchvision-37tok-3head')) as Record<string, unknown>;
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  F.config = [
    put(data, 'vit.json', configText('vit-torchvision-37tok-3head')),
    put(data, 'tr.json', configText('transformer-vocab41-3head')),
    put(data, 'layers.json', JSON.stringify({ ...vitConfig, num_layers: 1_000_000 })),
    put(data, 'hidden.json', JSON.stringify({ ...vitConfig, hidden_dim: 1e9, num_heads: 1 })),
    put(data, 'deep.json', `{"model":"vit","image_size":${deep}}`),
    put(data, 'broken.json', '{"model": "vit",'),
  ];
  F.weights = [
    put(data, 'vit.safetensors', vitW),
    put(data, 'tr.safetensors', trW),
    put(data, 'bad-shape.safetensors', withHeader(vitW, (h) => h.replace(/"shape":\[[\d,]*\]/, '"shape":"bad"'))),
    put(data, 'no-dtype.safetensors', withHeader(vitW, (h) => h.replace(/"dtype":"F32",/, ''))),
    put(data, 'deep.safetensors', withHeader(vitW, (h) => h.replace(/\{"dtype"[^}]*\}/, deep))),
    put(data, 'truncated.safetensors', vitW.subarray(0, vitW.length - 100)),
    put(data, 'text.safetensors', 'not a safetensors file'),
  ];
  F.inputs = [
    put(data, 'vit-in.safetensors', pick(vitIo, 'pixel_values')),
    put(data, 'tr-in.safetensors', pick(trIo, 'src', 'tgt')),
    put(data, 'tr-src.safetensors', pick(trIo, 'src')),
    put(data, 'p-in.safetensors', writeSafetensors({ x: { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3, 0.5, 0, 9]) } })),
    put(data, 'p-w.safetensors', writeSafetensors({ w: { dtype: 'F32', shape: [3, 2], data: new Float32Array([1, 0, 0, 1, 1, 1]) } })),
    put(data, 'tr-io.safetensors', readFileSync(join(FIXTURES, 'transformer-vocab41-3head.io.safetensors'))),
  ];
  F.program = [put(data, 'p.tir', TIR), put(data, 'broken.tir', TIR.replace('matmul', 'matmull')), put(data, 'shape.tir', TIR.replace('f32[3,2]', 'f32[4,2]'))];
  const mlp = readFileSync(join(EXAMPLES, 'mlp.ts'), 'utf8');
  F.model = [
    put(models, 'mlp.ts', mlp),
    put(models, 'throws.ts', mlp.replace(/return this\.fc2[^;]*;/, 'throw 42;')),
    put(models, 'throws-error.ts', mlp.replace(/return this\.fc2[^;]*;/, 'throw new TypeError("bad");')),
    put(models, 'logs.ts', mlp.replace('forward(x: Tensor): Tensor {', 'forward(x: Tensor): Tensor {\n    console.log("tracing");')),
    put(models, 'array.ts', mlp.replace(/return (this\.fc2[^;]*);/, 'return [$1, x] as unknown as Tensor;')),
    put(models, 'shape-error.ts', readFileSync(join(EXAMPLES, 'errors', 'shape-error.ts'))),
  ];
  symlinkSync(F.weights[0]!, join(outs, 'link-to-weights.safetensors'));
  linkSync(F.inputs[0]!, join(outs, 'hardlink-to-inputs.safetensors'));
  mkdirSync(join(outs, 'a-dir'));
  F.out = [
    join(outs, 'o.safetensors'),
    join(outs, 'o.tir'),
    join(outs, 'new', 'deeper', 'o.safetensors'),
    join(outs, 'a-dir'),
    join(F.config[0]!, 'o.safetensors'),
    join(outs, 'link-to-weights.safetensors'),
    join(outs, 'hardlink-to-inputs.safetensors'),
    `./${relative(process.cwd(), join(outs, 'rel.safetensors'))}`,
  ];
  F.missing = [join(data, 'missing.json'), join(data, 'nope', 'x.safetensors'), join(outs, 'a-dir')];
});

/** Every data file (inputs of some case: all copies, so no case can write to the repository's files) and its bytes. */
function snapshot(): Map<string, Buffer> {
  const files = [...readdirSync(data).map((f) => join(data, f)), ...readdirSync(models).map((f) => join(models, f))];
  return new Map(files.filter((f) => statSync(f).isFile()).map((f) => [f, readFileSync(f)]));
}

const hash = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const OUTPUT_FLAGS = ['-o', '--out', '--print-ir-after-all', '--print-ir-after-change'];

/** The files a command line reads: every argument that names an existing file, except the values of output flags. */
function inputsOf(args: readonly string[]): Set<string> {
  const read = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('-') ? a.indexOf('=') : -1;
    if (OUTPUT_FLAGS.includes(a)) i++;
    else if (eq < 0 || !OUTPUT_FLAGS.includes(a.slice(0, eq))) {
      const value = eq < 0 ? a : a.slice(eq + 1);
      try {
        if (statSync(value).isFile()) read.add(realpathSync(value));
      } catch {
        // Not a file.
      }
    }
  }
  return read;
}

/** A path in one of the ways a user writes it (absolute, relative, ./relative). */
function spell(rng: FuzzRng, path: string): string {
  if (!path.startsWith('/')) return path;
  const rel = relative(process.cwd(), path);
  return rng.pick([path, path, rel, `./${rel}`]);
}

/** Files that belong together (a config, its checkpoint, its inputs), by role: a case draws from one family most of the time, so many command lines are valid. */
const FAMILIES: readonly Record<string, number>[] = [
  { config: 0, weights: 0, inputs: 0, model: 0, program: 0 },
  { config: 1, weights: 1, inputs: 1, model: 3, program: 0 },
  { config: 1, weights: 1, inputs: 2, model: 0, program: 0 },
];
let family: Record<string, number> = FAMILIES[0]!;

/** A value for a flag that takes a file: usually the case's family's file of the first role, else one of `roles`, any file, a missing one or a directory. */
function file(rng: FuzzRng, ...roles: string[]): string {
  const own = family[roles[0]!];
  if (own !== undefined && rng.chance(0.7)) return spell(rng, F[roles[0]!]![own]!);
  const pool = rng.chance(0.85) ? roles.flatMap((r) => F[r]!) : [...Object.values(F).flat()];
  return spell(rng, rng.chance(0.05) ? rng.pick(F.missing!) : rng.pick(pool));
}

const NUMBERS = ['1', '2', '3', '0', '-1', '1.5', 'x', '', '1e9', '65537', '2147483648', '257', '1000', '10001'];
/** Token counts: small valid ones and invalid ones (a valid 10,000 is minutes of honest work, not a hang). */
const TOKENS = ['1', '2', '5', '0', '-1', '1.5', 'x', '', '65537', '2147483648'];
const INPUT_SPECS = ['pixel_values=f32[1,3,24,24]', 'pixel_values=f32[2,3,24,24]', 'pixel_values=f32[1,3,8,8]', 'src=i64[2,9]', 'tgt=i32[2,5]', 'src=i64[1,0]', 'src=f64[1]', 'x=f32[1]', 'garbage'];

/** One flag (with its value) of a command, or nothing. */
type FlagMaker = (rng: FuzzRng) => string[];

const flag =
  (name: string, value: (rng: FuzzRng) => string): FlagMaker =>
  (rng) =>
    rng.chance(0.15) ? [`${name}=${value(rng)}`] : [name, value(rng)];

/** The command lines each command takes: required flags first (each may be dropped), then optional ones. */
const COMMANDS: Record<string, { required: FlagMaker[]; optional: FlagMaker[] }> = {
  compile: {
    required: [(rng) => (rng.chance(0.5) ? [file(rng, 'model')] : ['--config', file(rng, 'config')])],
    optional: [
      (rng) => (rng.chance(0.9) ? ['--no-typecheck'] : []),
      flag('--emit', (rng) => rng.pick(['ir', 'kernels', 'code', 'stats', 'wat'])),
      () => ['--json'],
      flag('--input', (rng) => rng.pick(INPUT_SPECS)),
      flag('--print-ir-after-all', (rng) => file(rng, 'out', 'missing')),
      flag('--print-ir-after-change', (rng) => file(rng, 'out')),
      flag('--disable-pass', (rng) => rng.pick(['fuse', 'plan-memory', 'canonicalize', 'nope'])),
      flag('--backend', (rng) => rng.pick(['cpu', 'webgpu', 'tpu'])),
      flag('-o', (rng) => file(rng, 'out', 'model', 'config')),
      flag('--name', (rng) => rng.pick(['m', '0bad', 'a.b'])),
      () => ['--timings'],
    ],
  },
  eval: {
    required: [(rng) => [file(rng, 'program', 'model')], flag('--out', (rng) => file(rng, 'out', 'inputs', 'program'))],
    optional: [flag('--inputs', (rng) => file(rng, 'inputs')), flag('--weights', (rng) => file(rng, 'inputs', 'weights')), flag('--backend', (rng) => rng.pick(['interp', 'eval', 'cpu', 'cpu', 'webgpu', 'tpu']))],
  },
  run: {
    required: [
      (rng) => (rng.chance(0.5) ? ['--config', file(rng, 'config')] : [file(rng, 'model', 'program')]),
      flag('--weights', (rng) => file(rng, 'weights', 'inputs')),
      flag('--inputs', (rng) => file(rng, 'inputs')),
      flag('--out', (rng) => file(rng, 'out', 'weights', 'inputs', 'config', 'model')),
    ],
    optional: [
      (rng) => (rng.chance(0.9) ? ['--no-typecheck'] : []),
      flag('--backend', (rng) => rng.pick(['interp', 'cpu', 'cpu', 'webgpu', 'eval', 'tpu'])),
      flag('--batch-size', (rng) => rng.pick(NUMBERS)),
      flag('--input', (rng) => rng.pick(INPUT_SPECS)),
      () => ['--timings'],
    ],
  },
  generate: {
    required: [
      flag('--config', (rng) => file(rng, 'config')),
      flag('--weights', (rng) => file(rng, 'weights')),
      flag('--inputs', (rng) => file(rng, 'inputs')),
      flag('--max-new-tokens', (rng) => rng.pick(TOKENS)),
      flag('--out', (rng) => file(rng, 'out', 'weights', 'inputs')),
    ],
    optional: [flag('--backend', (rng) => rng.pick(['interp', 'cpu', 'webgpu'])), flag('--batch-size', (rng) => rng.pick(NUMBERS))],
  },
  bench: {
    required: [(rng) => (rng.chance(0.6) ? ['--config', file(rng, 'config')] : [file(rng, 'model', 'program')])],
    optional: [
      (rng) => (rng.chance(0.9) ? ['--no-typecheck'] : []),
      () => ['--timings'],
      flag('--weights', (rng) => file(rng, 'weights')),
      flag('--backend', (rng) => rng.pick(['interp', 'cpu', 'cpu', 'webgpu', 'eval'])),
      flag('--threads', (rng) => rng.pick(['1', '2', '0', '257', '1000', 'x'])),
      flag('--runs', (rng) => rng.pick(['1', '2', '0', '10001', '1e9', 'x'])),
      flag('--input', (rng) => rng.pick(INPUT_SPECS)),
      () => ['--profile'],
      () => ['--json'],
    ],
  },
  compare: {
    required: [(rng) => (rng.chance(0.6) ? [file(rng, 'model', 'program')] : ['--config', file(rng, 'config')])],
    optional: [
      (rng) => (rng.chance(0.9) ? ['--no-typecheck'] : []),
      flag('--weights', (rng) => file(rng, 'inputs', 'weights')),
      flag('--inputs', (rng) => file(rng, 'inputs')),
      flag('--random-inputs', (rng) => rng.pick(['1', '2', '0', '-1', 'x', '1e9', '1001'])),
      flag('--seed', (rng) => rng.pick(['0', '1', '7', '-1', 'x', '1e300'])),
      flag('--backends', (rng) => rng.pick(['cpu', 'eval,cpu', 'interp', 'webgpu', 'cpu,tpu', '', ',,'])),
      flag('--input', (rng) => rng.pick(INPUT_SPECS)),
      () => ['--json'],
      () => ['--timings'],
    ],
  },
  'ir check': { required: [(rng) => [file(rng, 'program', 'model', 'config')]], optional: [] },
  'ir fmt': { required: [(rng) => [file(rng, 'program')]], optional: [() => ['--help']] },
  info: { required: [], optional: [() => ['--json'], () => ['--bogus']] },
};
const NAMES = Object.keys(COMMANDS);

/** A random command line: a real command, its flags (some dropped, repeated, unknown), rarely nonsense. */
function commandLine(rng: FuzzRng): string[] {
  family = rng.pick(FAMILIES);
  if (rng.chance(0.02)) return rng.pick([[], ['--help'], ['frobnicate'], ['ir'], ['ir', 'lint', 'x']]);
  // info creates a WebGPU device each time: rarely.
  const name = rng.chance(0.02) ? 'info' : rng.pick(NAMES.filter((n) => n !== 'info'));
  const spec = COMMANDS[name]!;
  const args = [...name.split(' ')];
  for (const req of spec.required) if (rng.chance(0.93)) args.push(...req(rng));
  for (let k = rng.int(4); k > 0 && spec.optional.length; k--) args.push(...rng.pick(spec.optional)(rng));
  if (rng.chance(0.05)) args.push(rng.pick(['--frob', '-x', 'extra-positional']));
  // Bench runs ten times by default: keep it short unless --runs is fuzzed.
  if (name === 'bench' && !args.some((a) => a.startsWith('--runs'))) args.push('--runs', '1');
  return args;
}

/** A case that ended cleanly: exit 1 or 2 with a message that says where. */
class CleanExit extends Error {}
/** A case that ended with exit 1 or 2 but a message that says nothing of where. */
class UnlocatedExit extends Error {}

const STACK_FRAME = /\n\s+at .+:\d+:\d+\)?$/m;
/** What a message names to be located: a file, a flag, a position, a key or tensor in quotes. */
const LOCATED = /[\w.-]+\.(ts|mts|tir|json|safetensors)\b|(^|\s)--?[a-z][\w-]*|:\d+:\d+|'[^']+'|"[^"]+"|usage: tessera/;

let pristine: Map<string, Buffer> | undefined;

const target: FuzzTarget<string[]> = {
  name: 'cli-args',
  generate: commandLine,
  async run(args) {
    pristine ??= snapshot();
    const read = inputsOf(args);
    const r = await capture(() => main(args));
    for (const [f, bytes] of pristine) {
      let now: Buffer | undefined;
      try {
        now = readFileSync(f);
      } catch {
        // Replaced by a directory or removed: restored below.
      }
      if (now !== undefined && hash(now) === hash(bytes)) continue;
      if (read.has(realpathSync(f))) throw new Error(`input file ${f} was modified`);
      // A file of the data set that this command line named as its output: a legitimate write, undone for the next cases.
      rmSync(f, { recursive: true, force: true });
      writeFileSync(f, bytes);
    }
    if (![0, 1, 2].includes(r.code)) throw new Error(`exit code ${r.code}\n${r.err}`);
    if (STACK_FRAME.test(r.err) || /internal error/.test(r.err)) throw new Error(`a stack trace or internal error on stderr:\n${r.err}`);
    if (readdirSync(outs).some((f) => f.endsWith('.tmp'))) throw new Error('a temporary output file was left behind');
    if (r.code === 0) return;
    // Located: the message names one of the files or flags given, or a file, flag, position, key or tensor of its own.
    const named = args
      .map((a) => a.replace(/^--?[\w-]+=/, ''))
      .some((a) => a.length > 1 && [a, resolve(a)].some((spelling) => r.err.includes(spelling)));
    if (!named && !LOCATED.test(r.err)) throw new UnlocatedExit(`exit ${r.code}: ${r.err || '(nothing on stderr)'}`);
    throw new CleanExit(r.err);
  },
  classify(e): ErrorVerdict {
    return e instanceof CleanExit ? 'located' : e instanceof UnlocatedExit ? 'unlocated' : 'crash';
  },
  show: (args) => `tessera ${args.map((a) => (/^[\w./=,[\]-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
};

describe('fuzz: CLI arguments', () => {
  const budget = fuzzBudget(60, 60_000);
  it(
    'random command lines: exit 0, 1 or 2 with a located message, no stack trace, no input file modified; no crash, hang or unlocated error',
    () => expectCleanFuzz(target, budget),
    fuzzTestTimeout(budget, 300_000),
  );
});
