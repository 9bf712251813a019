#!/usr/bin/python3
"""Generate ONNX test fixtures written by PyTorch's own exporter (torch.onnx.export), for influence4j's
ONNX -> layer-graph importer.

Run from the repository root with Debian's packages (apt-get install python3-torch python3-numpy
python3-onnx; no pip):

    /usr/bin/python3 backend-testkit/src/test-fixtures/make_onnx_fixtures.py

For each small network below (mlp, lenet, resnet, embed_text, fashion_cnn, layernorm_decomposed) this
writes a folder

    backend-testkit/src/main/resources/org/influence4j/backend/testkit/onnx/<name>/

holding
    model.onnx          torch.onnx.export(model.eval(), x, f, opset_version=<per network>,
                        input_names=["input"], output_names=["logits"],
                        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                        do_constant_folding=False, export_params=True, keep_initializers_as_inputs=False)
                        of the float32 module (default training=TrainingMode.EVAL)
    nodes.txt           one line per ONNX node, in graph order, tab-separated:
                        op_type, name, inputs (comma-separated), outputs (comma-separated), attributes
                        (semicolon-separated key=value; empty when none)
    state.safetensors   the module's state_dict in float32 (F32), num_batches_tracked left out,
                        state_dict order
    x.npy               inputs: float32 [n, *input shape], or int64 [n, T] token ids (n = 6)
    y.npy               int64 class labels [n]
    logits.npy          float32 [n, classes], the eval-mode PyTorch outputs on x
    losses.npy          float32 [n], per-sample softmax cross-entropy (reduction='none')
    grads.npy           float32 [n, p], gradient of each sample's own loss, flattened and concatenated in
                        named_parameters() order (each tensor row-major) -- not written for fashion_cnn,
                        whose 11,978 parameters would make it 287 KB (see WRITE_GRADS)

The resnet folder also holds model_preserve.onnx / nodes_preserve.txt: the same export with
training=torch.onnx.TrainingMode.PRESERVE, which keeps BatchNormalization nodes and the PyTorch parameter
names (the default EVAL export folds BatchNorm into the preceding Conv under generated names).

a folder onnx/fashion_cnn_checkpoints/ with two SGD steps of the fashion_cnn module in PyTorch (lr 0.05),
each state_dict saved as influence4j's training checkpoints are (checkpoint-epoch-0000<k>.safetensors with the
metadata learning_rate, epoch, step), for TracIn with checkpoints saved from PyTorch,

and a folder onnx/bad/ with invalid or unsupported models:
    weights_as_inputs.onnx   the mlp exported with keep_initializers_as_inputs=True and its initializers
                             removed, so the weights are graph inputs without values
    unsupported_op.onnx      Linear -> torch.cumsum -> Linear: one op (CumSum) outside the importer's set
    two_unsupported_ops.onnx Linear -> LeakyReLU -> torch.cumsum -> Linear: LeakyRelu and CumSum
    lstm.onnx                nn.LSTM(4, 6) over [n, 5, 4] -> last step -> Linear: LSTM (and the
                             ops around it) unsupported
    truncated.onnx           the first half of mlp/model.onnx's bytes

plus README.md in the onnx folder, generated from the files written (opsets, op types with counts,
initializer names and shapes, parameter counts), with notes on what the exporter did.

Networks reuse the module definitions of make_layer_fixtures.py (lenet, resnet, embed_text = its
embed_mean), with the same parameter treatment: BatchNorm/LayerNorm affine parameters randomized,
BatchNorm running statistics made non-trivial by train-mode passes plus a seeded nudge.

Checks (asserts) made before anything is written:
  * onnx.checker.check_model(full_check=True) on every model written (except truncated.onnx, which
    must fail to load);
  * initializers named like state_dict entries hold exactly (bitwise) the state_dict values; every other
    initializer is accounted for (resnet's BatchNorm folded into Conv: values checked against
    W * gamma / sqrt(var + eps) and (b - mean) * gamma / sqrt(var + eps) + beta);
  * an independent float64 NumPy interpreter of the ONNX graph (written below, only the ops that occur)
    reproduces PyTorch's float32 logits (to 1e-5), so the graph means what nodes.txt says;
  * onnxruntime, if importable, reproduces the logits too (it is not packaged in Debian: skipped then);
  * per-sample float32 gradients agree with a float64 recomputation, and their mean with the batch
    gradient; .npy files load back unchanged; every folder stays under 150 KB.

Deterministic: fixed seeds, one thread, deterministic algorithms. ONNX files embed the producer
version (pytorch 1.13.0 here), so another torch version may write other bytes.
"""

import copy
import hashlib
import io
import json
import math
import os
import struct
import sys
from collections import Counter

import numpy as np
import onnx
import onnx.checker
import onnx.helper
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_layer_fixtures as layer  # noqa: E402  (module definitions and helpers shared with the layer fixtures)

N = 6                      # samples per fixture
SEED = 20240702            # base seed; each network adds 1000 * its index
MAX_FOLDER_BYTES = 150 * 1024
LOGIT_TOL = 1e-5           # float64 ONNX interpreter / onnxruntime vs PyTorch float32 logits (abs + rel)

REPO_ROOT = os.getcwd()
OUT = os.path.join(REPO_ROOT, "backend-testkit", "src", "main", "resources",
                   "org", "influence4j", "backend", "testkit", "onnx")

# The importer's op set, as the brief to this generator listed it (Gelu/Erf means the Erf pattern).
IMPORTER_OPS = {"Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten",
                "Reshape", "Relu", "Tanh", "Sigmoid", "Softplus", "Gelu", "Erf", "BatchNormalization",
                "LayerNormalization", "Gather", "ReduceMean", "Dropout", "Identity"}


# ----------------------------------------------------------------------------------------------------
# Networks not in make_layer_fixtures.py
# ----------------------------------------------------------------------------------------------------

def make_mlp():
    return nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))


def make_fashion_cnn():
    # the network of examples/fashion-mnist-cnn: 28 -conv5-> 24 -pool2-> 12 -conv5-> 8 -pool2-> 4; 16*4*4 = 256
    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 32), nn.Tanh(), nn.Linear(32, 10))


class LayerNormDecomposed(nn.Module):
    """Embedding -> LayerNorm -> Linear per token -> mean over tokens; at opset 13 (before
    LayerNormalization existed, opset 17) the exporter writes LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.norm = nn.LayerNorm(6)
        self.proj = nn.Linear(6, 3)

    def forward(self, ids):
        return self.proj(self.norm(self.emb(ids))).mean(dim=1)   # [N, T, 3] -> [N, 3]


class CumSumNet(nn.Module):
    def __init__(self, leaky):
        super().__init__()
        self.leaky = leaky
        self.fc1 = nn.Linear(10, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        h = self.fc1(x)
        if self.leaky:
            h = F.leaky_relu(h, 0.1)
        return self.fc2(torch.cumsum(h, dim=1))


class LstmNet(nn.Module):
    """A recurrent text classifier: LSTM over [n, T, 4] features, last step -> Linear (LSTM is refused)."""
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


def max_export_opset():
    """Highest opset torch.onnx.export accepts (17 in torch 1.13)."""
    try:
        from torch.onnx import _constants
        return int(_constants.ONNX_MAX_OPSET)
    except (ImportError, AttributeError):
        return 17


FASHION_OPSET = min(18, max_export_opset(), onnx.defs.onnx_opset_version())

NETWORKS = [
    # name, constructor, input spec, classes, opset
    ("mlp", make_mlp, {"shape": [10], "dtype": "float"}, 3, 13),
    ("lenet", layer.make_lenet, {"shape": [1, 12, 12], "dtype": "float"}, 3, 17),
    ("resnet", layer.ResNet, {"shape": [3, 8, 8], "dtype": "float"}, 3, 13),
    ("embed_text", layer.EmbedMean, {"shape": [6], "dtype": "int64", "vocab": 20}, 3, 14),
    ("fashion_cnn", make_fashion_cnn, {"shape": [1, 28, 28], "dtype": "unit"}, 10, FASHION_OPSET),
    ("layernorm_decomposed", LayerNormDecomposed, {"shape": [5], "dtype": "int64", "vocab": 20}, 3, 13),
]

# grads.npy for fashion_cnn would be 6 x 11,978 float32 = 287 KB, over the folder budget; the other
# networks cover the same layer types (Conv, Relu, MaxPool, Flatten, Gemm, Tanh) with gradients.
WRITE_GRADS = {"fashion_cnn": False}

# BatchNorm following each Conv in layer.ResNet (what the EVAL export folds together)
RESNET_FOLDS = {"stem": "bn0", "conv1": "bn1", "conv2": "bn2"}


# ----------------------------------------------------------------------------------------------------
# Export and files
# ----------------------------------------------------------------------------------------------------

def export(model, example, opset, **kw):
    args = dict(opset_version=opset, input_names=["input"], output_names=["logits"],
                dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                do_constant_folding=False, export_params=True, keep_initializers_as_inputs=False)
    args.update(kw)
    f = io.BytesIO()
    torch.onnx.export(model.eval(), example, f, **args)
    data = f.getvalue()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    return data, proto


def safetensors_f32(tensors, metadata=None):
    """tensors: list of (name, tensor) in the order to write; stored as F32 little-endian; metadata: str -> str."""
    header, blobs, offset = ({"__metadata__": metadata} if metadata else {}), [], 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        b = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_safetensors_f32(data):
    (hlen,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    body, out, end = data[8 + hlen:], {}, 0
    for name, e in header.items():
        assert e["dtype"] == "F32"
        b, f = e["data_offsets"]
        assert b == end
        end = f
        out[name] = np.frombuffer(body[b:f], dtype="<f4").reshape(e["shape"])
    assert end == len(body)
    return out


def _fmt_attr(a):
    v = onnx.helper.get_attribute_value(a)
    if a.type == onnx.AttributeProto.TENSOR:
        arr = onnx.numpy_helper.to_array(v)
        vals = arr.reshape(-1).tolist()
        if arr.dtype.kind == "f":
            vals = [str(np.float32(x)) if arr.dtype == np.float32 else repr(x) for x in vals]
        else:
            vals = [str(x) for x in vals]
        body = ",".join(vals) if arr.size <= 16 else f"<{arr.size} values>"
        return f"{a.name}={arr.dtype.name}{list(arr.shape)}:[{body}]"
    if a.type == onnx.AttributeProto.FLOAT:
        return f"{a.name}={str(np.float32(v))}"
    if a.type == onnx.AttributeProto.STRING:
        return f"{a.name}={v.decode('utf-8')}"
    if a.type == onnx.AttributeProto.INTS:
        return f"{a.name}=[{','.join(str(i) for i in v)}]"
    if a.type == onnx.AttributeProto.INT:
        return f"{a.name}={v}"
    raise ValueError(f"attribute type {a.type} of {a.name}")


def nodes_txt(proto):
    lines = []
    for nd in proto.graph.node:
        attrs = ";".join(_fmt_attr(a) for a in nd.attribute)
        lines.append("\t".join([nd.op_type, nd.name, ",".join(nd.input), ",".join(nd.output), attrs]))
    return "\n".join(lines) + "\n"


def op_counts(proto):
    c = Counter(nd.op_type for nd in proto.graph.node)
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))


def initializers(proto):
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


# ----------------------------------------------------------------------------------------------------
# Independent float64 NumPy interpreter of the exported ONNX graphs (only the ops that occur)
# ----------------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _attrs(nd):
    return {a.name: onnx.helper.get_attribute_value(a) for a in nd.attribute}


def _f64(a):
    return a.astype(np.float64) if a.dtype.kind == "f" else a


def run_onnx(proto, x):
    env = {k: _f64(v) for k, v in initializers(proto).items()}
    graph_inputs = [i.name for i in proto.graph.input if i.name not in env]
    assert graph_inputs == ["input"], graph_inputs
    env["input"] = _f64(x)
    for nd in proto.graph.node:
        at = _attrs(nd)
        ins = [env[i] if i else None for i in nd.input]
        op = nd.op_type
        if op == "Constant":
            assert set(at) == {"value"}
            y = _f64(onnx.numpy_helper.to_array(at["value"]))
        elif op == "Identity":
            y = ins[0]
        elif op == "Gemm":
            assert set(at) <= {"alpha", "beta", "transA", "transB"}
            a = ins[0].T if at.get("transA", 0) else ins[0]
            b = ins[1].T if at.get("transB", 0) else ins[1]
            y = at.get("alpha", 1.0) * (a @ b)
            if len(ins) > 2 and ins[2] is not None:
                y = y + at.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            y = np.matmul(ins[0], ins[1])
        elif op in ("Add", "Sub", "Mul", "Div", "Pow"):
            assert not at
            a, b = ins
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide,
                 "Pow": np.power}[op](a, b)
        elif op in ("Sqrt", "Erf", "Tanh", "Relu", "Sigmoid"):
            assert not at
            a = ins[0]
            y = {"Sqrt": np.sqrt, "Erf": _erf, "Tanh": np.tanh, "Relu": lambda v: np.maximum(v, 0.0),
                 "Sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v))}[op](a)
        elif op == "Conv":
            assert at.get("group", 1) == 1 and at.get("auto_pad", b"NOTSET") == b"NOTSET"
            w = ins[1]
            assert list(at["kernel_shape"]) == list(w.shape[2:])
            pads = list(at.get("pads", [0, 0, 0, 0]))
            assert pads[:2] == pads[2:], pads           # symmetric: [top, left, bottom, right]
            y = layer._conv2d(ins[0], w, ins[2] if len(ins) > 2 else None, list(at.get("strides", [1, 1])),
                              pads[:2], list(at.get("dilations", [1, 1])))
        elif op in ("MaxPool", "AveragePool"):
            assert list(at.get("pads", [0, 0, 0, 0])) == [0, 0, 0, 0] and at.get("ceil_mode", 0) == 0
            assert at.get("auto_pad", b"NOTSET") == b"NOTSET" and list(at.get("dilations", [1, 1])) == [1, 1]
            k = list(at["kernel_shape"])
            y = layer._pool(ins[0], k, list(at.get("strides", [1, 1])), np.max if op == "MaxPool" else np.mean)
        elif op == "Pad":
            assert at.get("mode", b"constant") == b"constant"
            a, pads = ins[0], [int(v) for v in ins[1]]
            cval = float(ins[2]) if len(ins) > 2 and ins[2] is not None else 0.0
            r = a.ndim
            y = np.pad(a, [(pads[i], pads[i + r]) for i in range(r)], constant_values=cval)
        elif op == "Flatten":
            ax = at.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gather":
            y = np.take(ins[0], ins[1], axis=at.get("axis", 0))
        elif op == "ReduceMean":
            y = ins[0].mean(axis=tuple(at["axes"]), keepdims=bool(at.get("keepdims", 1)))
        elif op == "Transpose":
            y = np.transpose(ins[0], at["perm"])
        elif op == "BatchNormalization":
            assert len(nd.output) == 1 and at.get("training_mode", 0) == 0
            a, scale, bias, mean, var = ins
            sh = (1, -1) + (1,) * (a.ndim - 2)
            y = (a - mean.reshape(sh)) / np.sqrt(var.reshape(sh) + at.get("epsilon", 1e-5)) * scale.reshape(sh) \
                + bias.reshape(sh)
        else:
            raise ValueError(f"interpreter: op {op} not implemented")
        assert len(nd.output) == 1
        env[nd.output[0]] = y
    assert [o.name for o in proto.graph.output] == ["logits"]
    return env["logits"]


def run_onnxruntime(data, x):
    try:
        import onnxruntime
    except ImportError:
        return None
    sess = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return sess.run(["logits"], {"input": x})[0]


# ----------------------------------------------------------------------------------------------------
# Reference quantities
# ----------------------------------------------------------------------------------------------------

def per_sample(model, x, y):
    params = [p for _, p in model.named_parameters()]
    with torch.no_grad():
        logits = model(x)
        losses = F.cross_entropy(logits, y, reduction="none")
    grads = []
    for i in range(x.shape[0]):
        li = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        grads.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(li, params)]))
    grads = torch.stack(grads)
    batch = torch.autograd.grad(F.cross_entropy(model(x), y), params)
    return logits, losses, grads, torch.cat([g.reshape(-1) for g in batch])


def max_rel(a, b):
    """max |a - b| / max |b| (a scale-free error)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def check_initializers(name, proto, state):
    """Initializers named like state entries equal them bitwise; returns the other initializers with
    an explanation of each, checked."""
    inits = initializers(proto)
    for k, v in inits.items():
        assert v.dtype == np.float32, (name, k, v.dtype)
    explained = {}
    for k, v in inits.items():
        if k in state:
            s = state[k]
            assert v.shape == s.shape and np.array_equal(v.view(np.uint32), s.view(np.uint32)), (name, k)
    others = [k for k in inits if k not in state]
    if others:
        assert name == "resnet", (name, others)
        for nd in proto.graph.node:
            if nd.op_type != "Conv":
                continue
            mod = nd.name.split("/")[1]
            w_name, b_name = nd.input[1], (nd.input[2] if len(nd.input) > 2 else None)
            if mod not in RESNET_FOLDS:
                assert w_name == f"{mod}.weight", (mod, w_name)
                continue
            bn = RESNET_FOLDS[mod]
            g, bt = state[f"{bn}.weight"], state[f"{bn}.bias"]
            mu, var = state[f"{bn}.running_mean"], state[f"{bn}.running_var"]
            scale = g / np.sqrt(var + 1e-5)
            w_exp = state[f"{mod}.weight"] * scale[:, None, None, None]
            b0 = state.get(f"{mod}.bias", np.zeros_like(mu))
            b_exp = (b0 - mu) * scale + bt
            assert w_name in others and b_name in others, (mod, w_name, b_name)
            assert np.allclose(inits[w_name], w_exp, rtol=1e-5, atol=1e-6), (mod, w_name)
            assert np.allclose(inits[b_name], b_exp, rtol=1e-5, atol=1e-6), (mod, b_name)
            explained[w_name] = f"`{mod}.weight` × `{bn}.weight` / √(`{bn}.running_var` + ε) (per output channel)"
            b_src = f"`{mod}.bias`" if f"{mod}.bias" in state else "0 (the conv has no bias)"
            explained[b_name] = (f"({b_src} − `{bn}.running_mean`) × `{bn}.weight` / √(`{bn}.running_var` + ε)"
                                 f" + `{bn}.bias`")
        assert sorted(explained) == sorted(others), (explained, others)
    missing = [k for k in state if k not in inits]
    return explained, missing


# ----------------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------------

def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def write(path, data):
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def build(index, name, ctor, spec, classes, opset):
    torch.manual_seed(SEED + 1000 * index)
    gen = torch.Generator().manual_seed(SEED + 1000 * index + 1)
    model = ctor().float()
    layer.randomize_affine(model, gen)
    shape = spec["shape"]
    if spec["dtype"] == "int64":
        x = layer.token_ids(gen, N, shape[0], spec["vocab"])
    else:
        def make_input(k):
            if spec["dtype"] == "unit":          # image-like values in [0, 1)
                return torch.rand([k] + shape, generator=gen, dtype=torch.float32)
            return torch.randn([k] + shape, generator=gen, dtype=torch.float32)
        layer.non_trivial_running_stats(model, make_input, gen)
        x = make_input(N)
    model.eval()
    y = torch.randint(0, classes, (N,), generator=gen)
    p = sum(t.numel() for t in model.parameters())

    logits, losses, grads, batch_grad = per_sample(model, x, y)
    # float64 recomputation: how far PyTorch's float32 values are from exact arithmetic
    m64 = copy.deepcopy(model).double()
    x64 = x.double() if x.dtype == torch.float32 else x
    logits64, losses64, grads64, _ = per_sample(m64, x64, y)
    err = {"logits": max_rel(logits, logits64), "grads": max_rel(grads, grads64)}
    assert err["logits"] < 1e-5 and err["grads"] < 1e-4, (name, err)
    assert np.allclose(grads.mean(0).numpy(), batch_grad.numpy(), rtol=1e-4, atol=1e-6 * float(grads.abs().max()))

    state_list = [(k, t) for k, t in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    st_bytes = safetensors_f32(state_list)
    state = read_safetensors_f32(st_bytes)
    for k, t in state_list:
        assert np.array_equal(state[k], t.numpy())

    files = {}
    data, proto = export(model, x, opset)
    assert proto.opset_import[0].version == opset and proto.opset_import[0].domain == ""
    explained, missing = check_initializers(name, proto, state)
    files["model.onnx"], files["nodes.txt"] = data, nodes_txt(proto)
    variants = [("model.onnx", proto, data)]
    if name == "resnet":
        data_p, proto_p = export(model, x, opset, training=torch.onnx.TrainingMode.PRESERVE)
        ex_p, missing_p = check_initializers(name, proto_p, state)
        assert not ex_p
        files["model_preserve.onnx"], files["nodes_preserve.txt"] = data_p, nodes_txt(proto_p)
        variants.append(("model_preserve.onnx", proto_p, data_p))

    interp_err = {}
    for fname, pr, d in variants:
        out = run_onnx(pr, x.numpy())
        assert out.shape == tuple(logits.shape)
        assert np.allclose(out, logits.numpy(), rtol=LOGIT_TOL, atol=LOGIT_TOL), (name, fname, np.abs(out - logits.numpy()).max())
        interp_err[fname] = float(np.abs(out - logits.numpy()).max())
        ort = run_onnxruntime(d, x.numpy())
        if ort is not None:
            assert np.allclose(ort, logits.numpy(), rtol=LOGIT_TOL, atol=LOGIT_TOL), (name, fname)
    # the exporter's batch axis is dynamic: a batch of 1 gives the first row
    assert np.allclose(run_onnx(proto, x[:1].numpy()), logits[:1].numpy(), rtol=LOGIT_TOL, atol=LOGIT_TOL)

    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):                 # stale files of an earlier run
        os.remove(os.path.join(folder, f))
    for fname, content in files.items():
        write(os.path.join(folder, fname), content)
    write(os.path.join(folder, "state.safetensors"), st_bytes)
    layer.save_npy(folder, "x", x.numpy(), "<f4" if x.dtype == torch.float32 else "<i8")
    layer.save_npy(folder, "y", y.numpy(), "<i8")
    layer.save_npy(folder, "logits", logits.numpy(), "<f4")
    layer.save_npy(folder, "losses", losses.numpy(), "<f4")
    if WRITE_GRADS.get(name, True):
        layer.save_npy(folder, "grads", grads.numpy(), "<f4")
    total = folder_bytes(folder)
    assert total < MAX_FOLDER_BYTES, (name, total)
    print(f"{name}: opset {opset} p={p} n={N} folder={total} bytes ops={dict(op_counts(proto))}")
    return {"name": name, "spec": spec, "classes": classes, "opset": opset, "p": p, "proto": proto,
            "variants": variants, "explained": explained, "missing": missing, "err": err,
            "interp_err": interp_err, "bytes": total, "grads": WRITE_GRADS.get(name, True),
            "model": model}


CHECKPOINT_LR = 0.05


def write_checkpoints(r):
    """Two SGD steps of the fashion_cnn module in PyTorch (lr CHECKPOINT_LR, cross-entropy on a batch of
    its own), each state_dict saved as influence4j's training checkpoints are: safetensors with the
    metadata learning_rate, epoch and step, named checkpoint-epoch-00001.safetensors, ..."""
    model = copy.deepcopy(r["model"]).train()
    folder = os.path.join(OUT, "fashion_cnn_checkpoints")
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    gen = torch.Generator().manual_seed(SEED + 7)
    x = torch.rand((16, 1, 28, 28), generator=gen)
    y = torch.randint(0, 10, (16,), generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=CHECKPOINT_LR)
    for epoch in (1, 2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        state = [(k, t) for k, t in model.state_dict().items() if not k.endswith("num_batches_tracked")]
        meta = {"learning_rate": repr(CHECKPOINT_LR), "epoch": str(epoch), "step": str(epoch)}
        write(os.path.join(folder, "checkpoint-epoch-%05d.safetensors" % epoch), safetensors_f32(state, meta))
    print(f"fashion_cnn_checkpoints: 2 SGD checkpoints, {folder_bytes(folder)} bytes")


def build_bad(mlp_bytes):
    folder = os.path.join(OUT, "bad")
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    out = {}

    # weights as graph inputs: the mlp (same seed, same weights) with keep_initializers_as_inputs=True
    torch.manual_seed(SEED)
    mlp = make_mlp().eval()
    data, proto = export(mlp, torch.zeros(1, 10), 13, keep_initializers_as_inputs=True)
    del proto.graph.initializer[:]
    onnx.checker.check_model(proto, full_check=True)
    inputs = [i.name for i in proto.graph.input]
    assert inputs == ["input", "0.weight", "0.bias", "2.weight", "2.bias"], inputs
    out["weights_as_inputs.onnx"] = (proto.SerializeToString(), proto)

    for fname, leaky, expect in (("unsupported_op.onnx", False, {"CumSum"}),
                                 ("two_unsupported_ops.onnx", True, {"CumSum", "LeakyRelu"})):
        torch.manual_seed(SEED + 7)
        net = CumSumNet(leaky).eval()
        data, proto = export(net, torch.randn(2, 10), 13)
        ops = {nd.op_type for nd in proto.graph.node}
        assert ops - IMPORTER_OPS - {"Constant"} == expect, ops
        out[fname] = (data, proto)

    torch.manual_seed(SEED + 11)
    data, proto = export(LstmNet().eval(), torch.randn(2, 5, 4), 13)
    ops = {nd.op_type for nd in proto.graph.node}
    assert "LSTM" in ops - IMPORTER_OPS, ops
    out["lstm.onnx"] = (data, proto)

    half = mlp_bytes[:len(mlp_bytes) // 2]
    try:
        onnx.load_from_string(half)
        raise AssertionError("truncated.onnx parsed")
    except AssertionError:
        raise
    except Exception as e:                      # google.protobuf.message.DecodeError
        truncated_error = f"{type(e).__name__}: {e}"
    out["truncated.onnx"] = (half, None)

    for fname, (data, _) in out.items():
        write(os.path.join(folder, fname), data)
    assert folder_bytes(folder) < MAX_FOLDER_BYTES
    print(f"bad: {sorted(out)} truncated -> {truncated_error}")
    return out, truncated_error


# ----------------------------------------------------------------------------------------------------
# README
# ----------------------------------------------------------------------------------------------------

LAYERS = {
    "mlp": "Linear(10→16) · Tanh · Linear(16→3)",
    "lenet": "Conv2d(1→4, 3) · ReLU · MaxPool2d(2) · Conv2d(4→6, 3, pad 1) · Tanh · AvgPool2d(2) · Flatten · "
             "Linear(24→10) · GELU (exact) · Linear(10→3)",
    "resnet": "Conv2d stem(3→4, 3, pad 1) · BatchNorm2d bn0 · ReLU · [Conv2d conv1(4→4, 3, pad 1, no bias) · bn1 · "
              "ReLU · Conv2d conv2(4→4, 3, pad 2, dilation 2, no bias) · bn2] + skip · ReLU · "
              "Conv2d down(4→6, 1, stride 2) · mean over H, W · Dropout(0.3) · Linear fc(6→3)",
    "embed_text": "Embedding emb(20, 5) · mean over tokens · Linear fc1(5→4) · Sigmoid · Linear fc2(4→3)",
    "fashion_cnn": "Conv2d(1→8, 5) · ReLU · MaxPool2d(2) · Conv2d(8→16, 5) · ReLU · MaxPool2d(2) · Flatten · "
                   "Linear(256→32) · Tanh · Linear(32→10) (the network of examples/fashion-mnist-cnn)",
    "layernorm_decomposed": "Embedding emb(20, 6) · LayerNorm norm(6) · Linear proj(6→3) per token · "
                            "mean over tokens",
}


def notes_for(r):
    """What the exporter did, per network; every statement is asserted against the exported graph."""
    name, proto = r["name"], r["proto"]
    nodes = list(proto.graph.node)
    ops = [nd.op_type for nd in nodes]
    by = {nd.name: nd for nd in nodes}
    notes = []
    gemms = [nd for nd in nodes if nd.op_type == "Gemm"]
    for nd in gemms:
        at = _attrs(nd)
        assert at == {"alpha": 1.0, "beta": 1.0, "transB": 1}, at
        assert nd.input[1].endswith(".weight") and nd.input[2].endswith(".bias")
    if gemms:
        notes.append("Each `nn.Linear` on a 2-D input is one `Gemm(x, <m>.weight, <m>.bias)` with `transB=1`, "
                     "alpha = beta = 1: the weight keeps its PyTorch name and `[out, in]` layout (not transposed).")
    if name == "lenet":
        pad, avg = by["/5/Pad"], by["/5/AveragePool"]
        const = by[pad.input[1].rsplit("_output_0", 1)[0]]
        assert list(onnx.numpy_helper.to_array(_attrs(const)["value"])) == [0] * 8 and avg.input[0] == pad.output[0]
        assert ops.count("Pad") == 1 and list(_attrs(avg)["pads"]) == [0, 0, 0, 0]
        notes.append("`AvgPool2d(2)` exports as `Constant` (int64 pads, all 8 zero) → `Pad(mode=constant)` → "
                     "`AveragePool(kernel 2, stride 2, pads 0, ceil_mode 0)`: a no-op `Pad` precedes it "
                     "(torch 1.13's opset-11+ avg_pool symbolic writes the padding as an explicit `Pad` whenever "
                     "`count_include_pad=True`, the default, even when it is zero). `MaxPool2d` has no `Pad`.")
        gelu = [by[f"/8/{k}"].op_type for k in ("Div", "Erf", "Add", "Mul", "Mul_1")]
        assert gelu == ["Div", "Erf", "Add", "Mul", "Mul"]
        assert "Gelu" not in ops
        notes.append("`GELU` (exact) is the Erf pattern, five nodes with three scalar float32 `Constant` "
                     "nodes: `Div(h, 1.4142135)` → `Erf` → `Add(·, 1.0)` → `Mul(h, ·)` → `Mul(·, 0.5)` "
                     "(no `Gelu` op; ONNX added `Gelu` only in opset 20).")
        notes.append("Scalar constants are `Constant` nodes, not initializers, because "
                     "`do_constant_folding=False`.")
    if name == "resnet":
        assert "BatchNormalization" not in ops and "Dropout" not in ops and "GlobalAveragePool" not in ops
        rm = by["/ReduceMean"]
        assert list(_attrs(rm)["axes"]) == [2, 3] and _attrs(rm)["keepdims"] == 0
        notes.append("**BatchNorm is folded into the preceding Conv** by the exporter's eval-mode peephole "
                     "pass (it runs in `TrainingMode.EVAL`, the default, even with `do_constant_folding=False`): "
                     "there is no `BatchNormalization` node, and the three folded convs take weights and "
                     "biases under generated names (`onnx::Conv_<k>`, listed below with their formulas, ε = 1e-5). "
                     "The parameters `stem.*`, `conv1.weight`, `conv2.weight`, `bn*.weight`/`bias` and the "
                     "running statistics are therefore not in `model.onnx` (they are in `state.safetensors`), "
                     "and `grads.npy` (with respect to the PyTorch parameters) cannot be mapped onto this graph's "
                     "initializers.")
        notes.append("`model_preserve.onnx` (`nodes_preserve.txt`) is the same export with "
                     "`training=torch.onnx.TrainingMode.PRESERVE` (the module is in eval mode): it keeps three "
                     "`BatchNormalization` nodes (one output each, `epsilon` ≈ 1e-5 as float32, "
                     "`momentum` 0.9) with inputs `<bn>.weight`, `<bn>.bias`, `<bn>.running_mean`, "
                     "`<bn>.running_var`, and every initializer under its PyTorch name; use it to map "
                     "`grads.npy`.")
        notes.append("`Dropout` (eval) is dropped entirely; no node. `h.mean(dim=(2, 3))` exports as "
                     "`ReduceMean(axes=[2,3], keepdims=0)`, not `GlobalAveragePool`. The residual sum is an "
                     "`Add`; the functional ReLUs are named `/Relu`, `/Relu_1`, `/Relu_2`.")
    if name == "embed_text":
        g, rm = by["/emb/Gather"], by["/ReduceMean"]
        assert list(g.input) == ["emb.weight", "input"] and "axis" not in _attrs(g)
        assert list(_attrs(rm)["axes"]) == [1] and _attrs(rm)["keepdims"] == 0
        notes.append("`nn.Embedding` is `Gather(emb.weight, input)` (axis 0); the graph input is int64 "
                     "`[batch, 6]`. The mean over tokens is `ReduceMean(axes=[1], keepdims=0)`.")
    if name == "fashion_cnn":
        notes.append(f"Exported at opset {r['opset']}: torch {torch.__version__}'s exporter supports opsets up to "
                     f"{max_export_opset()} (opset 18 raises \"Unsupported ONNX opset version: 18\"), and "
                     f"onnx {onnx.__version__} knows opsets up to {onnx.defs.onnx_opset_version()}.")
        notes.append("`x.npy` holds image-like values, uniform in [0, 1).")
        notes.append("No `grads.npy` here: 6 × 11,978 float32 gradients are 287 KB, over the 150 KB folder "
                     "budget (set `WRITE_GRADS` in the script to write it). The same layer types have gradients "
                     "in `lenet` and `mlp`.")
    if name == "layernorm_decomposed":
        assert "LayerNormalization" not in ops
        seq = [by[k].op_type for k in ("/norm/ReduceMean", "/norm/Sub", "/norm/Pow", "/norm/ReduceMean_1",
                                       "/norm/Add", "/norm/Sqrt", "/norm/Div", "/norm/Mul", "/norm/Add_1")]
        assert seq == ["ReduceMean", "Sub", "Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul", "Add"]
        assert list(_attrs(by["/norm/ReduceMean"])["axes"]) == [-1] and "keepdims" not in _attrs(by["/norm/ReduceMean"])
        assert list(by["/norm/Mul"].input)[1] == "norm.weight" and list(by["/norm/Add_1"].input)[1] == "norm.bias"
        tr, mm, ad = by["/proj/Transpose"], by["/proj/MatMul"], by["/proj/Add"]
        assert list(tr.input) == ["proj.weight"] and list(_attrs(tr)["perm"]) == [1, 0]
        assert list(mm.input)[1] == tr.output[0] and list(ad.input) == ["proj.bias", mm.output[0]]
        rm = by["/ReduceMean"]
        assert list(_attrs(rm)["axes"]) == [1] and _attrs(rm)["keepdims"] == 0 and rm.output[0] == "logits"
        notes.append("`LayerNorm` (opset 13, before `LayerNormalization`) is decomposed into nine nodes: "
                     "`ReduceMean(axes=[-1])` (keepdims absent = 1) → `Sub(x, mean)` → `Pow(·, 2.0)` → "
                     "`ReduceMean(axes=[-1])` → `Add(·, 1e-5)` → `Sqrt` → `Div(centered, ·)` → "
                     "`Mul(·, norm.weight)` → `Add(·, norm.bias)`, the two scalars as `Constant` nodes "
                     "(the variance is biased, as in PyTorch).")
        notes.append("`nn.Linear` on the 3-D `[batch, T, 6]` tensor is NOT a `Gemm`: it is "
                     "`Transpose(proj.weight, perm=[1,0])` → `MatMul(x, ·)` → `Add(proj.bias, ·)` (bias as the "
                     "FIRST operand). The weight keeps its PyTorch name and `[3, 6]` layout because constant "
                     "folding is off (with `do_constant_folding=True` the exporter instead stores a pre-transposed "
                     "`[6, 3]` copy under a generated name such as `onnx::MatMul_22` and drops `proj.weight`). "
                     "`Transpose` and `Sub`/`Pow`/`Sqrt`/`Div`/`Mul` are "
                     "outside the listed op set, as parts of these patterns.")
        notes.append("The final mean over tokens is `ReduceMean(axes=[1], keepdims=0)` writing `logits`.")
    return notes


def fmt_ops(proto):
    return ", ".join(f"{op} ×{c}" for op, c in op_counts(proto))


def fmt_inits(proto):
    return ", ".join(f"`{t.name}` {list(t.dims)}" for t in proto.graph.initializer)


README = """# ONNX fixtures exported by torch.onnx

Small networks exported by PyTorch's own ONNX exporter, with PyTorch's reference outputs, for testing
influence4j's ONNX → layer-graph importer. Generated by

    /usr/bin/python3 backend-testkit/src/test-fixtures/make_onnx_fixtures.py

run from the repository root with Debian's packages (`apt-get install python3-torch python3-numpy
python3-onnx`). Written with torch {torch_version}, onnx {onnx_version} (ONNX IR version {ir_version}),
numpy {numpy_version}; producer recorded in the files: `{producer}`. The script is deterministic (fixed
seeds, one thread); rerunning it rewrites the same bytes. Do not edit these files by hand: change the
script and rerun it. The same module definitions (and parameter treatment) as the layer-graph fixtures
in `../fixtures` are used where the network exists there (`lenet`, `resnet`, `embed_text` = `embed_mean`),
but with other seeds, float32 and n = {n}, so the numbers differ.

## Export call

```python
torch.onnx.export(model.eval(), x, f, opset_version=<opset>, input_names=["input"],
                  output_names=["logits"], dynamic_axes={{"input": {{0: "batch"}}, "logits": {{0: "batch"}}}},
                  do_constant_folding=False, export_params=True, keep_initializers_as_inputs=False)
```

with the module in float32 and eval mode (default `training=TrainingMode.EVAL`). Every graph has one
input `input` (float32 `[batch, *shape]`, or int64 `[batch, T]` token ids; `batch` symbolic), one
output `logits` (float32 `[batch, classes]`), and the parameters as initializers (not graph inputs).

## Networks

| folder | input | classes | opset | p | layers |
|---|---|---|---|---|---|
{table}

## Exported graphs

Op types are counted over `graph.node`; initializers are listed in file order with their shapes (all
float32). Every initializer whose name is a `state_dict` key holds exactly (bitwise) that tensor.

{graphs}

## Files in each folder

| file | content |
|---|---|
| `model.onnx` | the exported model (see above) |
| `nodes.txt` | one line per ONNX node in graph order, tab-separated: `op_type`, `name`, inputs (comma-separated), outputs (comma-separated), attributes (`;`-separated `key=value`; ints lists as `[a,b]`, floats as float32, tensors as `dtype[shape]:[values]`; empty when none) |
| `state.safetensors` | the module's `state_dict` in float32 (F32, little-endian), `num_batches_tracked` left out, in `state_dict` order (BatchNorm buffers included) |
| `x.npy` | inputs, float32 `[n, *shape]`, or int64 `[n, T]` token ids (each sample repeats at least one id) |
| `y.npy` | int64 class labels `[n]` |
| `logits.npy` | float32 `[n, classes]`, PyTorch's float32 eval-mode outputs on `x` |
| `losses.npy` | float32 `[n]`, per-sample softmax cross-entropy (`reduction='none'`) |
| `grads.npy` | float32 `[n, p]`, gradient of each sample's own loss, flattened and concatenated in `named_parameters()` order, each tensor row-major (not in `fashion_cnn`) |
| `model_preserve.onnx`, `nodes_preserve.txt` | `resnet` only: the export with `training=TrainingMode.PRESERVE`, BatchNorm kept |

All `.npy` files are NumPy format 1.0, C order, little-endian. n = {n}.

## Float32 accuracy

`logits.npy`, `losses.npy` and `grads.npy` are what PyTorch computes in float32. The script recomputes
them in float64 and evaluates each ONNX graph with its own float64 NumPy interpreter; the largest
differences seen:

| folder | logits f32 vs f64 (max abs diff / max abs) | grads f32 vs f64 (same) | ONNX graph in float64 vs `logits.npy` (max abs diff) |
|---|---|---|---|
{accuracy}

A Java importer evaluating in float32 should match `logits.npy` to about 1e-5 and `grads.npy` to about
1e-4 relative to the largest entry.

## Bad files (`bad/`)

| file | what it is |
|---|---|
| `weights_as_inputs.onnx` | the `mlp` (same weights) exported with `keep_initializers_as_inputs=True`, then its initializers removed: graph inputs `input`, `0.weight`, `0.bias`, `2.weight`, `2.bias` and no values for the weights (passes `onnx.checker`) |
| `unsupported_op.onnx` | `Linear(10→8)` → `torch.cumsum(dim=1)` → `Linear(8→3)`, opset 13; ops: {unsupported1}. The one op outside the importer's set is `CumSum` (its axis is an int32 scalar `Constant`) |
| `two_unsupported_ops.onnx` | `Linear(10→8)` → `leaky_relu(0.1)` → `torch.cumsum(dim=1)` → `Linear(8→3)`, opset 13; ops: {unsupported2}. Two ops outside the set: `LeakyRelu` and `CumSum` |
| `lstm.onnx` | `nn.LSTM(4, 6, batch_first=True)` over `[n, 5, 4]` → last step → `Linear(6→3)`, opset 13; ops: {unsupported_lstm}. Refused: `LSTM` and the ops around it are outside the set |
| `truncated.onnx` | the first {trunc_len} of `mlp/model.onnx`'s {mlp_len} bytes; `onnx.load` fails with `{trunc_error}` |

The importer's op set assumed here: {importer_ops}, plus the patterns above. Note that the exported
graphs also use `Constant`, `Pad`, `Transpose`, `Sub`, `Mul`, `Div`, `Pow` and `Sqrt` (see the notes).

## Checks made by the generator

`onnx.checker.check_model(full_check=True)` passes on every model (except `truncated.onnx`); initializer
values are compared with the `state_dict` (bitwise, or by the BatchNorm-folding formula); the float64
NumPy interpreter of each graph reproduces `logits.npy` within 1e-5 (also for a batch of one, the batch
axis being dynamic); onnxruntime {ort_note}; per-sample gradients agree with the float64 recomputation
and their mean with the batch gradient; every folder stays under 150 KB.
"""


def main():
    if not os.path.isdir(os.path.join(REPO_ROOT, "backend-testkit")):
        sys.exit("run from the repository root")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT, exist_ok=True)
    results = [build(i, *net) for i, net in enumerate(NETWORKS)]
    write_checkpoints(next(r for r in results if r["name"] == "fashion_cnn"))
    with open(os.path.join(OUT, "mlp", "model.onnx"), "rb") as f:
        mlp_bytes = f.read()
    bad, trunc_error = build_bad(mlp_bytes)

    rows, graphs, acc = [], [], []
    for r in results:
        spec = r["spec"]
        shape = "×".join(str(s) for s in spec["shape"])
        inp = f"int64 ids [{shape}], vocab {spec['vocab']}" if spec["dtype"] == "int64" else f"float32 [{shape}]"
        rows.append(f"| `{r['name']}` | {inp} | {r['classes']} | {r['opset']} | {r['p']} | {LAYERS[r['name']]} |")
        lines = [f"### `{r['name']}` (opset {r['opset']}, p = {r['p']}, folder {r['bytes']} bytes)", ""]
        for fname, proto, data in r["variants"]:
            lines.append(f"* `{fname}` ({len(data)} bytes, {len(proto.graph.node)} nodes): {fmt_ops(proto)}")
            lines.append(f"  * initializers: {fmt_inits(proto)}")
        if r["explained"]:
            lines.append("* generated initializers in `model.onnx`:")
            for k in sorted(r["explained"], key=lambda s: int(s.rsplit("_", 1)[1])):
                lines.append(f"  * `{k}` = {r['explained'][k]}")
        if r["missing"]:
            lines.append("* `state_dict` entries not in `model.onnx`: " + ", ".join(f"`{k}`" for k in r["missing"]))
        named = [k for k, _ in r["model"].named_parameters()]
        lines.append("* `named_parameters()` order (columns of `grads.npy`): " + ", ".join(f"`{k}`" for k in named))
        for nt in notes_for(r):
            lines.append(f"* {nt}")
        graphs.append("\n".join(lines))
        ie = ", ".join(f"{v:.1e}" for v in r["interp_err"].values())
        acc.append(f"| `{r['name']}` | {r['err']['logits']:.1e} | {r['err']['grads']:.1e} | {ie} |")

    try:
        import onnxruntime  # noqa: F401
        ort_note = "also reproduces the logits"
    except ImportError:
        ort_note = "was not available (not packaged in Debian), so no runtime check was made"
    proto0 = results[0]["proto"]
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(README.format(
            torch_version=torch.__version__, onnx_version=onnx.__version__, ir_version=proto0.ir_version,
            numpy_version=np.__version__, producer=f"{proto0.producer_name} {proto0.producer_version}",
            n=N, table="\n".join(rows), graphs="\n\n".join(graphs), accuracy="\n".join(acc),
            unsupported1=fmt_ops(bad["unsupported_op.onnx"][1]),
            unsupported2=fmt_ops(bad["two_unsupported_ops.onnx"][1]),
            unsupported_lstm=fmt_ops(bad["lstm.onnx"][1]),
            trunc_len=len(bad["truncated.onnx"][0]), mlp_len=len(mlp_bytes), trunc_error=trunc_error,
            importer_ops=", ".join(f"`{o}`" for o in sorted(IMPORTER_OPS)), ort_note=ort_note))

    digest = hashlib.sha256()
    for root, _, fs in sorted(os.walk(OUT)):
        for fn in sorted(fs):
            with open(os.path.join(root, fn), "rb") as f:
                digest.update(fn.encode() + f.read())
    print("sha256 of all files:", digest.hexdigest())


if __name__ == "__main__":
    main()
