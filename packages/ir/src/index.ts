/**
 * @tessera/ir: the graph IR. Types, programs, the op registry (one
 * definition per op), the builder, the verifier, the reference interpreter,
 * the text format and safetensors I/O from bytes (files on disk: @tessera/ir/node).
 */
export * from './dtype.ts';
export * from './errors.ts';
export * from './json-preview.ts';
export * from './gather-error.ts';
export * from './tensor-type.ts';
export * from './attrs.ts';
export * from './op-def.ts';
export * from './program.ts';
export * from './ref-tensor.ts';
export * from './registry.ts';
export * from './builder.ts';
export * from './verifier.ts';
export * from './interpreter.ts';
export * from './decompose.ts';
export { erf, erfDecomposition } from './ops/special.ts';
export { UNARY_OPS, BINARY_OPS, COMPARE_OPS, type UnaryOp, type BinaryOp, type CompareOp, type DecomposableOp, type DTypeClass, UNARY_OP_NAMES, BINARY_OP_NAMES, COMPARE_OP_NAMES, isUnaryOp, isBinaryOp, isCompareOp, UNARY_DTYPES, BINARY_DTYPES, COMPARE_DTYPES, castValue, checkDType, floorDivI32, ieeePow, keysOf, modI32, roundHalfEven, unaryResultDType, unaryScalarFn, binaryScalarFn, compareScalarFn } from './ops/elementwise.ts';
export { COMBINERS, type CombinerName, combineFn, reducedShape, reductionFold } from './ops/reduction.ts';
export { logsumexpShift } from './ops/log-sum-exp.ts';
export { matmulType } from './ops/contraction.ts';
export { RESIZE_MODES, RESIZE_NEAREST_MODES, RESIZE_TRANSFORMS } from './ops/resize.ts';
export { INT8_SEVEN_BIT_MAX, INT8_WEIGHT_MAX, dequantize, quantScale, quantValue, quantizeVector } from './ops/quantized.ts';
export { type Conv2dGeometry, conv2dGeometry, isDepthwise } from './ops/convolution.ts';
export { resolveReshape } from './ops/movement.ts';
export * from './text/index.ts';
export * from './io/index.ts';
