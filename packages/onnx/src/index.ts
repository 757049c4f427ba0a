/**
 * @tessera/onnx: ONNX models as Tessera programs. `importOnnx(bytes)` reads
 * a ModelProto (protobufjs, from onnx.proto's descriptor) and returns a
 * graph program with its weights; `onnxOpReport(bytes)` lists the ops a
 * model uses and which Tessera lacks; `encodeModel(model)` writes one
 * (ModelProto fields as plain objects, for tools that build ONNX graphs in
 * memory). Browser-safe: files on disk (and external data next to them) are
 * @tessera/onnx/node.
 */
export { type ImportOnnxOptions, type OnnxImport, type OnnxInputSpec, MAX_OPSET, MIN_OPSET, describeNode, importOnnx } from './import.ts';
export { type OnnxOpReport, type OnnxOpUse, onnxOpReport, formatOpReport } from './op-report.ts';
export { SUPPORTED_ONNX_OPS } from './ops/index.ts';
export { type ExternalDataReader, type OnnxTensor, computeDType, onnxDTypeName, readTensorProto } from './tensor.ts';
export { recognisePatterns } from './patterns.ts';
export { type ModelProto, type ProtoInit, encodeModel } from './proto.ts';
