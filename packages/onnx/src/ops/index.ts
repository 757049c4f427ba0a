/** Every ONNX op the importer converts (default domain), by op type. */
import type { Converter } from '../context.ts';
import { CONV_TRANSPOSE_CONVERTERS } from './conv-transpose.ts';
import { EINSUM_CONVERTERS } from './einsum.ts';
import { ELEMENTWISE_CONVERTERS } from './elementwise.ts';
import { INDEXING_CONVERTERS } from './indexing.ts';
import { NN_CONVERTERS } from './nn.ts';
import { NORM_CONVERTERS } from './norm.ts';
import { POOL_CONVERTERS } from './pool.ts';
import { REDUCE_CONVERTERS } from './reduce.ts';
import { RESIZE_CONVERTERS } from './resize.ts';
import { SHAPE_CONVERTERS } from './shape.ts';

/** The converters of the default ONNX domain, by op type. */
export const CONVERTERS: Readonly<Record<string, Converter>> = { ...ELEMENTWISE_CONVERTERS, ...SHAPE_CONVERTERS, ...NN_CONVERTERS, ...REDUCE_CONVERTERS, ...INDEXING_CONVERTERS, ...RESIZE_CONVERTERS, ...POOL_CONVERTERS, ...NORM_CONVERTERS, ...CONV_TRANSPOSE_CONVERTERS, ...EINSUM_CONVERTERS };

/** The ONNX op types the importer converts, sorted. */
export const SUPPORTED_ONNX_OPS: readonly string[] = Object.keys(CONVERTERS).sort();
