import { vi } from 'vitest';

/** What a command wrote and returned. */
export interface Captured {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs a command in process, capturing what it writes to stdout and stderr (errors it throws pass through). */
export async function capture(command: () => Promise<number>): Promise<Captured> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await command();
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
