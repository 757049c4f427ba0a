/** The IR text format: a canonical printer, a parser that records source locations, and a checker. */
export { printProgram, printNode, printInput, printOutput, formatAttrs, formatAttrValue, formatNumber, quoteString } from './printer.ts';
export { parseProgram, parseProgramWithHeader, parseTensorType, parseNumber, type ParsedProgram } from './parser.ts';
export { ParseError } from './parse-error.ts';
export { checkProgramText, formatDiagnostic, type TextCheckResult, type TextDiagnostic } from './check.ts';
