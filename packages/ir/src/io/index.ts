/** Tensor file I/O: safetensors reading, writing, and conversion to interpreter tensors. */
export * from './safetensors.ts';
export * from './safetensors-file.ts';
export * from './safetensors-ref.ts';
export { halfBitsToNumber, numberToHalfBits, bfloat16BitsToNumber, numberToBfloat16Bits } from './half.ts';
