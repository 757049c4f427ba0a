import { supportOfAll } from '@tessera/kernel';
import { WASM_SCALAR_CODE } from './scalar-expr.ts';
import { WASM_VECTOR_CODE } from './vector-expr.ts';

/** The scalar ops both wasm code tables have code for (a kernel may take either path, or both); the others are legalised. */
export const WASM_SUPPORT = supportOfAll(WASM_SCALAR_CODE, WASM_VECTOR_CODE);
