/**
 * Tokens of the IR text format. The format is line-oriented (one definition
 * per line), so newlines are tokens; `#` starts a comment that runs to the end
 * of the line. Everything else is deliberately small: value names `%x`, the
 * program symbol `@name`, double-quoted strings, punctuation, and "words" (op
 * names, keywords, dtypes, numbers), which the parser interprets by context.
 */

/**
 * What a token is. `word` covers identifiers and numbers alike (`matmul`,
 * `f32`, `2`, `-inf`, `1e-05`). `bad` is text that is no token (a stray
 * character, an unterminated string): the parser reports it when it gets
 * there, so errors come out in source order.
 */
export type TokenKind = 'value' | 'symbol' | 'word' | 'string' | 'punct' | 'newline' | 'bad' | 'eof';

/** One token with its position (1-based line and column) and offset in the source. */
export interface Token {
  readonly kind: TokenKind;
  /** For `value`/`symbol` the name without sigil; for `string` the unescaped contents; otherwise the source text. */
  readonly text: string;
  /** The token exactly as written (for messages). */
  readonly raw: string;
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  /** For a `bad` token that is malformed rather than unexpected: what is wrong. */
  readonly error?: string;
}

const PUNCT = new Set(['=', ':', ',', '(', ')', '{', '}', '[', ']']);

/** Characters of value names, output names, op names and numbers. */
export function isNameChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return (k >= 97 && k <= 122) || (k >= 65 && k <= 90) || (k >= 48 && k <= 57) || k === 95 || k === 46;
}

/** Splits IR text into tokens, ending with one `eof`; never throws (see `bad`). */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const push = (kind: TokenKind, text: string, start: number, error?: string) =>
    tokens.push({ kind, text, raw: src.slice(start, i), line, col: start - lineStart + 1, offset: start, ...(error ? { error } : {}) });

  while (i < src.length) {
    const c = src[i]!;
    const start = i;
    if (c === '\n') {
      i++;
      push('newline', '\n', start);
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (PUNCT.has(c)) {
      i++;
      push('punct', c, start);
    } else if (c === '%' || c === '@') {
      i++;
      while (isNameChar(src[i])) i++;
      // `%` alone is kept as an empty name: the parser reports it where a name was expected.
      push(c === '%' ? 'value' : 'symbol', src.slice(start + 1, i), start);
    } else if (c === '"') {
      i++;
      let text = '';
      let error: string | undefined;
      for (;;) {
        const d = src[i];
        if (d === undefined || d === '\n') {
          error = `unterminated string: expected a closing '"', found ${d === undefined ? 'end of input' : 'end of line'}`;
          break;
        }
        i++;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[i];
          if (e !== '"' && e !== '\\') error ??= `unknown escape '\\${e ?? ''}' in string (expected \\" or \\\\)`;
          text += e ?? '';
          if (e !== undefined && e !== '\n') i++;
        } else {
          text += d;
        }
      }
      push(error ? 'bad' : 'string', text, start, error);
    } else if (isNameChar(c) || ((c === '-' || c === '+') && isNameChar(src[i + 1]))) {
      i++;
      for (;;) {
        const d = src[i];
        if (isNameChar(d)) i++;
        // A `/` between name characters belongs to the word: output names such as `attn/encoder.layers.0.self_attn`.
        else if (d === '/' && isNameChar(src[i + 1])) i++;
        // The sign of an exponent (`1e-05`, `2.5E+10`) belongs to the number.
        else if ((d === '-' || d === '+') && /^[+-]?[0-9.][0-9.]*[eE]$/.test(src.slice(start, i)) && /[0-9]/.test(src[i + 1] ?? '')) i++;
        else break;
      }
      push('word', src.slice(start, i), start);
    } else {
      i++;
      push('bad', c, start);
    }
  }
  tokens.push({ kind: 'eof', text: '', raw: '', line, col: i - lineStart + 1, offset: i });
  return tokens;
}

/** How a token is named in "found ..." messages. */
export function describeToken(t: Token): string {
  if (t.kind === 'eof') return 'end of input';
  if (t.kind === 'newline') return 'end of line';
  return `'${t.raw}'`;
}
