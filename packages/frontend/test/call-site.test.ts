/** Stack frames as Node, Chromium, Firefox and Safari write them, read without touching any file. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath, parseFrame } from '../src/call-site.ts';

describe('parseFrame', () => {
  it('reads V8 frames with and without a function name: paths, file URLs (decoded) and a page’s script URLs', () => {
    expect(parseFrame('    at Block.forward (/home/u/model.ts:12:7)')).toEqual({ file: '/home/u/model.ts', line: 12, col: 7 });
    expect(parseFrame('    at /home/u/model.ts:3:1')).toEqual({ file: '/home/u/model.ts', line: 3, col: 1 });
    expect(parseFrame('    at f (file:///home/u/my%20models/m.js:4:9)')).toEqual({ file: '/home/u/my models/m.js', line: 4, col: 9 });
    expect(parseFrame('    at WrongWidth.forward (http://127.0.0.1:8080/callsite/model.js:5:20)')).toEqual({ file: 'http://127.0.0.1:8080/callsite/model.js', line: 5, col: 20 });
    expect(parseFrame('    at async main (https://example.com/app.js?v=3:1:2345)')).toEqual({ file: 'https://example.com/app.js', line: 1, col: 2345 });
  });

  it('reads Firefox and Safari frames (fn@location:line:col)', () => {
    expect(parseFrame('forward@http://localhost:5173/src/model.ts:8:14')).toEqual({ file: 'http://localhost:5173/src/model.ts', line: 8, col: 14 });
    expect(parseFrame('@http://localhost:5173/src/main.ts:2:1')).toEqual({ file: 'http://localhost:5173/src/main.ts', line: 2, col: 1 });
  });

  it('reads Windows paths with their drive letter', () => {
    expect(parseFrame('    at m (C:\\Users\\u\\model.ts:6:3)')).toEqual({ file: 'C:\\Users\\u\\model.ts', line: 6, col: 3 });
  });

  it('skips Node-internal, native, eval and relative frames, and lines that are not frames', () => {
    for (const line of ['    at Module._compile (node:internal/modules/cjs/loader:1554:14)', '    at Array.map (<anonymous>)', '    at eval (eval at run (/x.js:1:1), <anonymous>:1:1)', '    at relative/file.js:1:2', 'Error: boom', '']) {
      expect(parseFrame(line), line).toBeUndefined();
    }
  });
});

describe('displayPath', () => {
  it('shows a file inside the working directory relative to it, others and URLs as given', () => {
    expect(displayPath(join(process.cwd(), 'examples', 'mlp.ts'))).toBe(join('examples', 'mlp.ts'));
    expect(displayPath('/somewhere/else.ts')).toBe('/somewhere/else.ts');
    expect(displayPath('http://127.0.0.1:8080/model.js')).toBe('http://127.0.0.1:8080/model.js');
  });
});
