/** Test helpers: run a traced program on host values, compare float64 results, locate lines of this package's test sources. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Program, interpret } from '@tessera/ir';
import { makeRng } from '@tessera/harness';

/** Runs a program in the reference interpreter and returns output `name` as plain numbers. */
export function run(p: Program, inputs: Record<string, readonly number[]>, name = 'output'): number[] {
  const out = interpret(p, Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, [...v]])));
  return Array.from(out[name]!.data);
}

/** Float64 against float64: both sides compute the same sums, possibly in another order. */
export function expectClose(actual: readonly number[], expected: readonly number[], tol = 1e-9): void {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) throw new Error(`element ${i}: ${a} != expected ${e} (tolerance ${tol})\nactual ${actual}\nexpected ${expected}`);
  });
}

/** A test file's path as the DSL reports it (relative to the working directory) from its import.meta.url. */
export function shownPath(metaUrl: string): string {
  return relative(process.cwd(), fileURLToPath(metaUrl));
}

/** 1-based line and column of `needle` on the line of a source file carrying `marker`. */
export function positionOf(file: string, marker: string, needle: string): { line: number; col: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker) && l.includes(needle));
  if (i < 0) throw new Error(`no line with ${marker} and ${needle} in ${file}`);
  return { line: i + 1, col: lines[i]!.indexOf(needle) + 1 };
}

/** Deterministic pseudo-random numbers in [-1, 1): the harness's mulberry32 stream, rescaled. */
export function rng(seed: number): () => number {
  const next = makeRng(seed);
  return () => next() * 2 - 1;
}

/** n random values from `r`. */
export const randoms = (r: () => number, n: number): number[] => Array.from({ length: n }, r);
