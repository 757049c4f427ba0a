import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { capture } from './capture.ts';

describe('tessera (no command, help, --version, unknown command)', () => {
  it('no command is a usage error: exit 2, the help on stderr', async () => {
    const r = await capture(() => main([]));
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^tessera: a dataflow-graph compiler for transformer models\n\nusage: tessera <command>/);
  });

  it('--help prints the help on stdout, exit 0; an unknown command exits 2 naming it', async () => {
    const help = await capture(() => main(['--help']));
    expect(help).toMatchObject({ code: 0, err: '' });
    expect(help.out).toContain('usage: tessera <command>');
    const unknown = await capture(() => main(['frobnicate']));
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/^tessera: unknown command 'frobnicate'/);
  });

  it("--version prints the CLI package's version, exit 0", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await capture(() => main(['--version']));
    expect(r).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('tessera --version', () => {
  it("prints @tessera/cli's version from its package.json, exit 0", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-v']) expect(await capture(() => main([flag]))).toEqual({ code: 0, out: `${version}\n`, err: '' });
  });
});
