/**
 * `tessera onnx ops MODEL.onnx [--json]`: the ops an ONNX model uses (count
 * per op type) and which of them Tessera lacks. Exit 0 when it has them all,
 * 1 when one is missing.
 */
import { readFile } from 'node:fs/promises';
import { TesseraError } from '@tessera/ir';
import { fsErrorReason } from '@tessera/ir/node';
import { formatOpReport, onnxOpReport } from '@tessera/onnx';
import { parseCommandArgs } from '../args.ts';
import { type Command, UsageError } from '../command.ts';

const USAGE = `usage: tessera onnx ops MODEL.onnx [--json]

  Lists the op types an ONNX model's graph uses, how many nodes of each, and
  marks MISSING those Tessera cannot import; then the model's opsets and a
  summary. Exit 0 when Tessera has every op, 1 when one is missing.

  --json    print the report as one JSON object`;

/** The `onnx` command. */
export const onnxCommand: Command = {
  name: 'onnx',
  summary: 'inspect an ONNX model: `onnx ops MODEL.onnx` lists its ops and which Tessera lacks',
  usage: USAGE,
  async run(args) {
    const parsed = parseCommandArgs(args, { booleans: ['--json'] });
    const [sub, path, ...rest] = parsed.positionals;
    if (sub !== 'ops') throw new UsageError(sub === undefined ? 'missing the subcommand (ops)' : `unknown subcommand '${sub}' (expected ops)`);
    if (path === undefined) throw new UsageError('missing MODEL.onnx');
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new TesseraError(`cannot read ${path}: ${fsErrorReason(e)}`);
    }
    const report = onnxOpReport(bytes, path);
    process.stdout.write(`${parsed.booleans.has('--json') ? JSON.stringify({ model: path, ...report }) : formatOpReport(report, path)}\n`);
    return report.missing.length ? 1 : 0;
  },
};
