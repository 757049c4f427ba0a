"""Copies ONNX's own backend node tests for the ops @tessera/onnx converts
into packages/onnx/test/conformance/cases (committed; the conformance test
and docs/onnx-conformance.md read them).

The `onnx` wheel no longer ships the node test data, so the cases are made
by its test-case generators (onnx.backend.test.case.node), as
`backend-test-tools generate-data` writes them: per case, model.onnx and
test_data_set_0/{input,output}_N.pb TensorProtos. A case is taken when its
graph uses only ops the importer converts (the list is read from
@tessera/onnx itself) and its files are small; every case that is left out
for another reason (too large, an opset below 13, a non-tensor input) is
listed with the reason in cases/manifest.json.

    /work/pyenv/bin/python tools/make_onnx_conformance.py
"""
import json
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import onnx.defs
from onnx import TensorProto, numpy_helper
import onnx.backend.test.case.node as node_cases

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "packages", "onnx", "test", "conformance", "cases")
MAX_CASE_BYTES = 48_000  # model + inputs + outputs of one case
MIN_OPSET = 13
MAX_CASES_PER_OP = 16  # the first cases of an op by name (Attention alone has 93 expanded variants): keeps the CI test short
# Ops whose cases are each a different mode (Resize: nearest modes, coordinate transforms, cubic, antialias): all of them, small as they are.
CASES_PER_OP = {"Resize": 64, "MaxPool": 64, "AveragePool": 64}
# Cases whose expected outputs are not the op's value to f32 precision, with why.
IMPRECISE = {
    "test_averagepool_2d_ceil_last_window_starts_on_pad": "its expected outputs are written to 4 decimals (0.1511 for (0.8580 + 0.0786 + 0.2692 + 0.1537) / 9 = 0.151056)",
}
# Element types whose values Tessera can read (float, the integer types, bool, double, float16, bfloat16).
READABLE = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16}


def supported_ops():
    script = "import('./packages/onnx/src/ops/index.ts').then((m) => console.log(JSON.stringify(m.SUPPORTED_ONNX_OPS)))"
    out = subprocess.run(["node", "--import", "tsx", "-e", script], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return set(json.loads(out))


def snake(op):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


def primary_op(name, ops):
    """The op a case tests: the ONNX op whose snake_case name is the longest prefix of the case name."""
    rest = name[len("test_"):]
    best = None
    for op in ops:
        s = snake(op)
        if rest == s or rest.startswith(s + "_") or rest.startswith(op.lower() + "_") or rest == op.lower():
            if best is None or len(s) > len(snake(best)):
                best = op
    return best


def tensor_bytes(value, vi):
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(np.asarray(value), vi.name).SerializeToString()


def main():
    ops = supported_ops()
    all_ops = {s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain in ("", "ai.onnx")}
    warnings.simplefilter("ignore")
    cases = node_cases.collect_testcases(None)
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    manifest = {"cases": {}, "skipped": {}}
    per_op = {}
    for case in sorted(cases, key=lambda c: c.name):
        model = case.model
        graph_ops = sorted({n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")})
        foreign = [n.op_type for n in model.graph.node if n.domain not in ("", "ai.onnx")]
        if foreign or not graph_ops or not set(graph_ops) <= ops:
            continue  # a case for an op Tessera lacks: listed by the op report, not here
        primary = primary_op(case.name, all_ops) or graph_ops[0]
        opset = max((i.version for i in model.opset_import if i.domain in ("", "ai.onnx")), default=0)
        if opset < MIN_OPSET:
            manifest["skipped"][case.name] = {"op": primary, "reason": f"opset {opset} (Tessera imports opsets 13 and newer)"}
            continue
        if any(not vi.type.HasField("tensor_type") for vi in list(model.graph.input) + list(model.graph.output)):
            manifest["skipped"][case.name] = {"op": primary, "reason": "a sequence or optional input or output"}
            continue
        exotic = sorted({TensorProto.DataType.Name(vi.type.tensor_type.elem_type) for vi in list(model.graph.input) + list(model.graph.output) if vi.type.tensor_type.elem_type not in READABLE})
        if exotic:
            manifest["skipped"][case.name] = {"op": primary, "reason": f"element type {', '.join(exotic)}, which Tessera neither computes nor reads"}
            continue
        if case.name in IMPRECISE:
            manifest["skipped"][case.name] = {"op": primary, "reason": IMPRECISE[case.name]}
            continue
        inputs, outputs = case.data_sets[0]
        files = {"model.onnx": model.SerializeToString()}
        for j, v in enumerate(inputs):
            files[f"input_{j}.pb"] = tensor_bytes(v, model.graph.input[j])
        for j, v in enumerate(outputs):
            files[f"output_{j}.pb"] = tensor_bytes(v, model.graph.output[j])
        size = sum(len(b) for b in files.values())
        if size > MAX_CASE_BYTES:
            manifest["skipped"][case.name] = {"op": primary, "reason": f"{size // 1000} KB of model and data (the fixtures keep cases under {MAX_CASE_BYTES // 1000} KB)"}
            continue
        per_op[primary] = per_op.get(primary, 0) + 1
        if per_op[primary] > CASES_PER_OP.get(primary, MAX_CASES_PER_OP):
            manifest["skipped"][case.name] = {"op": primary, "reason": f"the fixtures keep the first {MAX_CASES_PER_OP} cases of each op (by name)"}
            continue
        d = os.path.join(OUT, case.name)
        os.makedirs(d)
        for f, b in files.items():
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(b)
        manifest["cases"][case.name] = {"op": primary, "ops": graph_ops, "opset": opset}
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1, sort_keys=True)
        fh.write("\n")
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{len(manifest['cases'])} cases ({total // 1000} KB), {len(manifest['skipped'])} skipped, in {OUT}")


if __name__ == "__main__":
    main()
