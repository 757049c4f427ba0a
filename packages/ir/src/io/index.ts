/**
 * Tensor file I/O from bytes: safetensors parsing, serialisation, and
 * conversion to interpreter tensors. Reading and writing files on disk is in
 * safetensors-file.ts, exported from `@tessera/ir/node` only.
 */
export * from './safetensors.ts';
export * from './safetensors-ref.ts';
export { halfBitsToNumber, numberToHalfBits, bfloat16BitsToNumber, numberToBfloat16Bits } from './half.ts';
