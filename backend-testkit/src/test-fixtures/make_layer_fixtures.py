#!/usr/bin/python3
"""Generate the PyTorch reference fixtures for influence4j's layer tests.

Run from the repository root with Debian's PyTorch (apt-get install python3-torch python3-numpy):

    /usr/bin/python3 backend-testkit/src/test-fixtures/make_layer_fixtures.py

For each small network below (lenet, resnet, embed_mean, embed_layernorm) this writes a folder

    backend-testkit/src/main/resources/org/influence4j/backend/testkit/fixtures/<name>/

holding
    model.json          the network in influence4j's "format 2" JSON model description; node names are
                        the PyTorch module names, so parameters are "<node>.weight" / "<node>.bias" and
                        BatchNorm buffers "<node>.running_mean" / "<node>.running_var"
    state.safetensors   the module's state_dict in float64 (num_batches_tracked left out), state_dict order
    x.npy               inputs: float64 [n, *input shape], or int64 [n, T] token ids
    y.npy               int64 class labels [n]
    logits.npy          float64 [n, classes], the eval-mode PyTorch outputs
    losses.npy          float64 [n], per-sample softmax cross-entropy (reduction='none')
    grads.npy           float64 [n, p], per-sample gradients of each sample's own loss, flattened and
                        concatenated in named_parameters() order (each tensor row-major)
    v.npy               float64 [p], a seeded standard-normal direction
    hvp.npy             float64 [p], Hessian of the MEAN cross-entropy over the n samples times v
                        (double backward)
    gnvp.npy            float64 [p], Gauss-Newton product (1/n) sum_i J_i^T H_i J_i v with
                        J_i = d logits_i / d theta and H_i = diag(p_i) - p_i p_i^T (softmax probabilities)

plus a README.md in the fixtures folder. Everything is computed in float64 with the model in eval mode
(BatchNorm uses running statistics, which are made non-trivial by a few train-mode passes on random
data first, plus a small seeded nudge; Dropout is the identity). The script is deterministic (fixed
seeds, one thread).

Independent checks (asserts) made before anything is written:
  * an independent numpy interpreter of model.json + state.safetensors (read back from the bytes
    written) reproduces PyTorch's logits, so the JSON describes exactly the PyTorch module;
  * per-sample gradients equal J_i^T (softmax_i - onehot_i) from an explicit Jacobian
    (torch.autograd.functional.jacobian);
  * the Gauss-Newton product (jvp + vjp) equals the one built from the explicit Jacobian;
  * the HVP equals the explicit Hessian (torch.autograd.functional.hessian) times v;
  * the .npy files load back unchanged and every folder stays under 100 KB.
"""

import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.stateless import functional_call

N = 8                     # samples per fixture
SEED = 20240611           # base seed; each network adds its own offset
MAX_FOLDER_BYTES = 100 * 1024
RTOL, ATOL = 1e-10, 1e-12

REPO_ROOT = os.getcwd()
FIXTURES = os.path.join(REPO_ROOT, "backend-testkit", "src", "main", "resources",
                        "org", "influence4j", "backend", "testkit", "fixtures")


# ----------------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------------

def make_lenet():
    # 12x12 -conv3-> 10x10 -maxpool2-> 5x5 -conv3,pad1-> 5x5 -avgpool2 (floor)-> 2x2; 6*2*2 = 24
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, stride=1),
        nn.Tanh(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(6 * 2 * 2, 10),
        nn.GELU(),
        nn.Linear(10, 3),
    )


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.bn0 = nn.BatchNorm2d(4)
        self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm2d(4)
        self.down = nn.Conv2d(4, 6, 1, stride=2)
        self.drop = nn.Dropout(0.3)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        h = F.relu(self.bn0(self.stem(x)))
        r = F.relu(self.bn1(self.conv1(h)))
        r = self.bn2(self.conv2(r))
        h = F.relu(h + r)
        h = self.down(h)
        h = h.mean(dim=(2, 3))          # global average pool [C,H,W] -> [C]
        h = self.drop(h)
        return self.fc(h)


class EmbedMean(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 5)
        self.fc1 = nn.Linear(5, 4)
        self.fc2 = nn.Linear(4, 3)

    def forward(self, ids):
        e = self.emb(ids)               # [N, T, 5]
        m = e.mean(dim=1)               # mean over tokens -> [N, 5]
        return self.fc2(torch.sigmoid(self.fc1(m)))


class EmbedLayerNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 6)
        self.norm = nn.LayerNorm(6)
        self.proj = nn.Linear(6, 6)
        self.head = nn.Linear(6, 3)

    def forward(self, ids):
        e = self.norm(self.emb(ids))    # [N, T, 6]
        h = F.softplus(self.proj(e))    # per token, last axis
        return self.head(h.mean(dim=1))


# ----------------------------------------------------------------------------------------------------
# Format 2 node builders (attributes read from the PyTorch modules themselves)
# ----------------------------------------------------------------------------------------------------

def _pair(v):
    return [int(v), int(v)] if isinstance(v, int) else [int(a) for a in v]


def node(name, op, inputs=None, **attrs):
    d = {"name": name, "op": op}
    if inputs is not None:
        d["inputs"] = list(inputs)
    d.update(attrs)
    return d


def conv_node(name, m, inputs=None):
    assert isinstance(m, nn.Conv2d) and m.groups == 1 and m.padding_mode == "zeros"
    return node(name, "conv2d", inputs, in_channels=m.in_channels, out_channels=m.out_channels,
                kernel_size=_pair(m.kernel_size), stride=_pair(m.stride), padding=_pair(m.padding),
                dilation=_pair(m.dilation), bias=m.bias is not None)


def dense_node(name, m, inputs=None):
    assert isinstance(m, nn.Linear)
    return node(name, "dense", inputs, in_features=m.in_features, out_features=m.out_features,
                bias=m.bias is not None)


def bn_node(name, m, inputs=None):
    assert isinstance(m, nn.BatchNorm2d) and m.track_running_stats
    return node(name, "batch_norm", inputs, num_features=m.num_features, eps=m.eps, affine=m.affine)


def ln_node(name, m, inputs=None):
    assert isinstance(m, nn.LayerNorm) and len(m.normalized_shape) == 1
    return node(name, "layer_norm", inputs, normalized_shape=int(m.normalized_shape[0]), eps=m.eps,
                elementwise_affine=m.elementwise_affine)


def emb_node(name, m, inputs=None):
    assert isinstance(m, nn.Embedding) and m.padding_idx is None and m.max_norm is None
    return node(name, "embedding", inputs, num_embeddings=m.num_embeddings, embedding_dim=m.embedding_dim)


def pool_node(name, m, inputs=None):
    op = {nn.MaxPool2d: "max_pool2d", nn.AvgPool2d: "avg_pool2d"}[type(m)]
    assert not m.ceil_mode and _pair(m.padding) == [0, 0]
    if op == "max_pool2d":
        assert _pair(m.dilation) == [1, 1]
    else:
        assert m.count_include_pad and m.divisor_override is None
    return node(name, op, inputs, kernel_size=_pair(m.kernel_size), stride=_pair(m.stride),
                padding=_pair(m.padding))


def sequential_nodes(seq):
    nodes = []
    for name, m in seq.named_children():
        if isinstance(m, nn.Conv2d):
            nodes.append(conv_node(name, m))
        elif isinstance(m, nn.Linear):
            nodes.append(dense_node(name, m))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            nodes.append(pool_node(name, m))
        elif isinstance(m, nn.Flatten):
            assert m.start_dim == 1 and m.end_dim == -1
            nodes.append(node(name, "flatten"))
        elif isinstance(m, nn.GELU):
            assert m.approximate == "none"
            nodes.append(node(name, "gelu"))
        elif isinstance(m, nn.ReLU):
            nodes.append(node(name, "relu"))
        elif isinstance(m, nn.Tanh):
            nodes.append(node(name, "tanh"))
        else:
            raise ValueError(f"unsupported module {m}")
    return nodes


def lenet_nodes(m):
    return sequential_nodes(m)


def resnet_nodes(m):
    assert m.drop.p == 0.3
    return [
        conv_node("stem", m.stem, ["input"]),
        bn_node("bn0", m.bn0),
        node("relu0", "relu"),
        conv_node("conv1", m.conv1),
        bn_node("bn1", m.bn1),
        node("relu1", "relu"),
        conv_node("conv2", m.conv2),
        bn_node("bn2", m.bn2),
        node("add0", "add", ["relu0", "bn2"]),
        node("relu2", "relu"),
        conv_node("down", m.down),
        node("gap0", "global_avg_pool"),
        node("drop", "dropout", p=m.drop.p),
        dense_node("fc", m.fc),
    ]


def embed_mean_nodes(m):
    return [
        emb_node("emb", m.emb, ["input"]),
        node("mean0", "mean", axis=0),
        dense_node("fc1", m.fc1),
        node("sigmoid0", "sigmoid"),
        dense_node("fc2", m.fc2),
    ]


def embed_layernorm_nodes(m):
    return [
        emb_node("emb", m.emb, ["input"]),
        ln_node("norm", m.norm),
        dense_node("proj", m.proj),
        node("softplus0", "softplus"),
        node("mean0", "mean", axis=0),
        dense_node("head", m.head),
    ]


# ----------------------------------------------------------------------------------------------------
# safetensors writer / reader (reader only for the round-trip check)
# ----------------------------------------------------------------------------------------------------

def safetensors_bytes(tensors):
    """tensors: list of (name, float64 torch tensor) in the order to write."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f8"))
        b = a.tobytes(order="C")
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def read_safetensors(data):
    (hlen,) = struct.unpack("<Q", data[:8])
    assert hlen % 8 == 0
    header = json.loads(data[8:8 + hlen].decode("utf-8"))
    body = data[8 + hlen:]
    out, end = {}, 0
    for name, e in header.items():
        assert e["dtype"] == "F64"
        b, f = e["data_offsets"]
        assert b == end
        end = f
        out[name] = np.frombuffer(body[b:f], dtype="<f8").reshape(e["shape"])
    assert end == len(body)
    return out


# ----------------------------------------------------------------------------------------------------
# Independent numpy interpreter of format 2 (checks that model.json + state describe the module)
# ----------------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf)


def _conv2d(x, w, b, stride, padding, dilation):
    n, c, hh, ww = x.shape
    o, c2, kh, kw = w.shape
    assert c == c2
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (hh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (ww + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh, j * dw: j * dw + sw * (wo - 1) + 1: sw]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def _pool(x, k, s, reduce):
    n, c, hh, ww = x.shape
    ho, wo = (hh - k[0]) // s[0] + 1, (ww - k[1]) // s[1] + 1
    wins = [x[:, :, i: i + s[0] * (ho - 1) + 1: s[0], j: j + s[1] * (wo - 1) + 1: s[1]]
            for i in range(k[0]) for j in range(k[1])]
    return reduce(np.stack(wins), axis=0)


def interpret(model_json, state, x):
    assert model_json["format"] == 2 and model_json["loss"] == "softmax_cross_entropy"
    assert model_json["dtype"] == "float64"
    assert list(x.shape[1:]) == model_json["input"]["shape"]
    vals, prev, used = {"input": x}, "input", []
    for nd in model_json["nodes"]:
        name, op = nd["name"], nd["op"]
        assert name not in vals
        ins = [vals[i] for i in nd.get("inputs", [prev])]
        a = ins[0]

        def p(suffix):
            used.append(f"{name}.{suffix}")
            return state[f"{name}.{suffix}"]

        if op == "conv2d":
            w = p("weight")
            assert list(w.shape) == [nd["out_channels"], nd["in_channels"]] + _pair(nd["kernel_size"])
            y = _conv2d(a, w, p("bias") if nd.get("bias", True) else None, _pair(nd.get("stride", 1)),
                        _pair(nd.get("padding", 0)), _pair(nd.get("dilation", 1)))
        elif op == "dense":
            w = p("weight")
            assert list(w.shape) == [nd["out_features"], nd["in_features"]]
            y = a @ w.T + (p("bias") if nd.get("bias", True) else 0.0)
        elif op in ("max_pool2d", "avg_pool2d"):
            k = _pair(nd["kernel_size"])
            s = _pair(nd.get("stride", k))
            assert _pair(nd.get("padding", 0)) == [0, 0]
            y = _pool(a, k, s, np.max if op == "max_pool2d" else np.mean)
        elif op == "global_avg_pool":
            y = a.mean(axis=(2, 3))
        elif op == "flatten":
            y = a.reshape(a.shape[0], -1)
        elif op == "embedding":
            w = p("weight")
            assert list(w.shape) == [nd["num_embeddings"], nd["embedding_dim"]]
            y = w[a]
        elif op == "layer_norm":
            d = nd["normalized_shape"]
            assert a.shape[-1] == d
            mu = a.mean(axis=-1, keepdims=True)
            var = ((a - mu) ** 2).mean(axis=-1, keepdims=True)
            y = (a - mu) / np.sqrt(var + nd.get("eps", 1e-5))
            if nd.get("elementwise_affine", True):
                y = y * p("weight") + p("bias")
        elif op == "batch_norm":
            sh = (1, -1) + (1,) * (a.ndim - 2)
            rm, rv = p("running_mean"), p("running_var")
            y = (a - rm.reshape(sh)) / np.sqrt(rv.reshape(sh) + nd.get("eps", 1e-5))
            if nd.get("affine", True):
                y = y * p("weight").reshape(sh) + p("bias").reshape(sh)
        elif op == "dropout":
            y = a
        elif op == "add":
            assert len(ins) == 2
            y = ins[0] + ins[1]
        elif op == "mean":
            y = a.mean(axis=nd["axis"] + 1)
        elif op == "relu":
            y = np.maximum(a, 0.0)
        elif op == "gelu":
            y = 0.5 * a * (1.0 + _erf(a / math.sqrt(2.0)))
        elif op == "tanh":
            y = np.tanh(a)
        elif op == "sigmoid":
            y = 1.0 / (1.0 + np.exp(-a))
        elif op == "softplus":
            y = np.where(a > 20.0, a, np.log1p(np.exp(np.minimum(a, 20.0))))
        elif op == "identity":
            y = a
        else:
            raise ValueError(op)
        vals[name] = y
        prev = name
    assert sorted(used) == sorted(state.keys()), (used, list(state.keys()))
    return vals[prev], used


# ----------------------------------------------------------------------------------------------------
# Reference quantities
# ----------------------------------------------------------------------------------------------------

def non_trivial_running_stats(model, make_input, gen, passes=6):
    """A few train-mode forward passes on shifted random data, so eval-mode BatchNorm differs from
    train mode; then a small seeded nudge of the running statistics so that no channel keeps a mean
    of about 0 or a variance of about 1 by chance."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    model.train()
    with torch.no_grad():
        for _ in range(passes):
            model(1.5 * make_input(16) + 0.7)
        for bn in bns:
            c = bn.num_features
            sign = torch.where(torch.rand(c, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)
            bn.running_mean.add_(sign * (0.1 + 0.2 * torch.rand(c, generator=gen, dtype=torch.float64)))
            bn.running_var.mul_(torch.exp(0.3 * torch.randn(c, generator=gen, dtype=torch.float64)))
    model.eval()
    for bn in bns:
        assert (bn.running_mean.abs() > 1e-2).all() and ((bn.running_var - 1).abs() > 1e-2).all(), \
            (bn.running_mean, bn.running_var)
        assert (bn.running_var > 0).all()


def randomize_affine(model, gen):
    """BatchNorm / LayerNorm affine parameters default to 1 and 0; make them generic."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
                m.weight.copy_(1.0 + 0.3 * torch.randn(m.weight.shape, generator=gen, dtype=torch.float64))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=gen, dtype=torch.float64))


def compute(model, x, y, v):
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    theta = torch.cat([p.detach().reshape(-1) for _, p in model.named_parameters()])
    n = x.shape[0]

    def unflatten(flat):
        return {nm: t.reshape(sh) for nm, t, sh in zip(names, torch.split(flat, sizes), shapes)}

    def logits_of(flat):
        return functional_call(model, unflatten(flat), (x,))

    def mean_loss_of(flat):
        return F.cross_entropy(logits_of(flat), y)

    params = [p for _, p in model.named_parameters()]
    with torch.no_grad():
        logits = model(x)
        losses = F.cross_entropy(logits, y, reduction="none")

    # per-sample gradients: one backward per sample of its own loss
    grads = []
    for i in range(n):
        li = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        g = torch.autograd.grad(li, params)
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    grads = torch.stack(grads)

    # HVP of the mean loss by double backward
    loss = F.cross_entropy(model(x), y)
    g = torch.autograd.grad(loss, params, create_graph=True)
    gv = sum((gi.reshape(-1) * vi).sum() for gi, vi in zip(g, torch.split(v, sizes)))
    hvp = torch.cat([t.reshape(-1) for t in torch.autograd.grad(gv, params)])

    # Gauss-Newton product: J v (jvp), H_i (J_i v), J^T (vjp); samples are independent in eval mode
    lg, jv = torch.autograd.functional.jvp(logits_of, theta, v)
    pr = torch.softmax(lg, dim=1)
    u = pr * jv - pr * (pr * jv).sum(dim=1, keepdim=True)
    _, jtu = torch.autograd.functional.vjp(logits_of, theta, u)
    gnvp = jtu / n

    # ---- independent checks against explicit Jacobian / Hessian ----
    J = torch.autograd.functional.jacobian(logits_of, theta)          # [n, C, p]
    P = torch.softmax(logits, dim=1)
    H = torch.diag_embed(P) - P[:, :, None] * P[:, None, :]           # [n, C, C]
    gnvp_ref = torch.einsum("icp,icd,idq,q->p", J, H, J, v) / n
    assert torch.allclose(gnvp, gnvp_ref, rtol=RTOL, atol=ATOL), (gnvp - gnvp_ref).abs().max()
    onehot = F.one_hot(y, P.shape[1]).to(P.dtype)
    grads_ref = torch.einsum("icp,ic->ip", J, P - onehot)
    assert torch.allclose(grads, grads_ref, rtol=RTOL, atol=ATOL), (grads - grads_ref).abs().max()
    assert torch.allclose(lg, logits, rtol=RTOL, atol=ATOL)
    Hess = torch.autograd.functional.hessian(mean_loss_of, theta)
    assert torch.allclose(hvp, Hess @ v, rtol=RTOL, atol=ATOL), (hvp - Hess @ v).abs().max()
    th = theta.clone().requires_grad_(True)
    g_mean = torch.autograd.grad(mean_loss_of(th), th)[0]
    assert torch.allclose(grads.mean(0), g_mean, rtol=RTOL, atol=ATOL), (grads.mean(0) - g_mean).abs().max()

    return {"logits": logits, "losses": losses, "grads": grads, "hvp": hvp, "gnvp": gnvp}


# ----------------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------------

NETWORKS = [
    # name, constructor, nodes, input spec, classes
    ("lenet", make_lenet, lenet_nodes, {"shape": [1, 12, 12], "dtype": "float"}, 3),
    ("resnet", ResNet, resnet_nodes, {"shape": [3, 8, 8], "dtype": "float"}, 3),
    ("embed_mean", EmbedMean, embed_mean_nodes, {"shape": [6], "dtype": "int64", "vocab": 20}, 3),
    ("embed_layernorm", EmbedLayerNorm, embed_layernorm_nodes, {"shape": [5], "dtype": "int64", "vocab": 20}, 3),
]


def token_ids(gen, n, t, vocab):
    ids = torch.randint(0, vocab, (n, t), generator=gen)
    # every sample repeats at least one id: copy a random earlier position onto the last one
    for i in range(n):
        j = int(torch.randint(0, t - 1, (1,), generator=gen))
        ids[i, t - 1] = ids[i, j]
        assert len(set(ids[i].tolist())) < t
    return ids


def save_npy(folder, name, arr, dtype):
    a = np.ascontiguousarray(np.asarray(arr, dtype=dtype))
    path = os.path.join(folder, name + ".npy")
    np.save(path, a, allow_pickle=False)
    back = np.load(path, allow_pickle=False)
    assert back.dtype == np.dtype(dtype) and back.shape == a.shape and np.array_equal(back, a)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x93NUMPY\x01\x00"      # .npy format version 1.0
    return a


def build(index, name, ctor, nodes_fn, input_spec, classes):
    torch.manual_seed(SEED + 1000 * index)
    gen = torch.Generator().manual_seed(SEED + 1000 * index + 1)
    model = ctor().double()
    randomize_affine(model, gen)
    shape = input_spec["shape"]
    if input_spec["dtype"] == "float":
        def make_input(k):
            return torch.randn([k] + shape, generator=gen, dtype=torch.float64)
        non_trivial_running_stats(model, make_input, gen)
        x = make_input(N)
    else:
        x = token_ids(gen, N, shape[0], input_spec["vocab"])
    model.eval()
    y = torch.randint(0, classes, (N,), generator=gen)
    p = sum(t.numel() for t in model.parameters())
    v = torch.randn(p, generator=gen, dtype=torch.float64)

    # BatchNorm in eval mode really differs from train mode on these inputs
    if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        import copy
        m2 = copy.deepcopy(model)
        for m in m2.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.train()
        with torch.no_grad():
            assert not torch.allclose(m2(x), model(x), rtol=1e-3, atol=1e-3)

    model_json = {
        "format": 2,
        "input": {"shape": list(shape), "dtype": input_spec["dtype"]},
        "nodes": nodes_fn(model),
        "loss": "softmax_cross_entropy",
        "dtype": "float64",
    }
    # node order: parameterized nodes in named_parameters() order, inputs only reference earlier nodes
    seen = {"input"}
    for nd in model_json["nodes"]:
        for i in nd.get("inputs", []):
            assert i in seen, (nd, i)
        seen.add(nd["name"])
    param_nodes = []
    for pn, _ in model.named_parameters():
        owner = pn.rsplit(".", 1)[0]
        if owner not in param_nodes:
            param_nodes.append(owner)
    listed = [nd["name"] for nd in model_json["nodes"] if nd["name"] in param_nodes]
    assert listed == param_nodes, (listed, param_nodes)

    state = [(k, t) for k, t in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    st_bytes = safetensors_bytes(state)

    ref = compute(model, x, y, v)

    # independent interpretation of the description written to disk
    logits_np, used = interpret(json.loads(json.dumps(model_json)), read_safetensors(st_bytes),
                                x.numpy())
    assert np.allclose(logits_np, ref["logits"].numpy(), rtol=RTOL, atol=ATOL), \
        np.abs(logits_np - ref["logits"].numpy()).max()
    lse = np.log(np.exp(logits_np - logits_np.max(1, keepdims=True)).sum(1)) + logits_np.max(1)
    losses_np = lse - logits_np[np.arange(N), y.numpy()]
    assert np.allclose(losses_np, ref["losses"].numpy(), rtol=RTOL, atol=ATOL)

    folder = os.path.join(FIXTURES, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(model_json, f, indent=2)
        f.write("\n")
    with open(os.path.join(folder, "state.safetensors"), "wb") as f:
        f.write(st_bytes)
    save_npy(folder, "x", x.numpy(), "<f8" if input_spec["dtype"] == "float" else "<i8")
    save_npy(folder, "y", y.numpy(), "<i8")
    for k in ("logits", "losses", "grads", "hvp", "gnvp"):
        save_npy(folder, k, ref[k].detach().numpy(), "<f8")
    save_npy(folder, "v", v.numpy(), "<f8")

    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    assert total < MAX_FOLDER_BYTES, (name, total)
    print(f"{name}: p={p} n={N} classes={classes} folder={total} bytes")
    return p


README = """# PyTorch layer fixtures

Reference values computed by PyTorch for four small networks, used by the backend test kit to check
influence4j's format-2 model interpreter layer by layer (forward, loss, per-sample gradients, HVP,
Gauss-Newton product). Generated by

    /usr/bin/python3 backend-testkit/src/test-fixtures/make_layer_fixtures.py

run from the repository root with Debian's PyTorch (`apt-get install python3-torch python3-numpy`).
The script is deterministic (fixed seeds, one thread); these files were written with
torch {torch_version}, numpy {numpy_version}. Do not edit them by hand: change the script and rerun it.

## Networks (all in eval mode, float64, softmax cross-entropy, n = {n} samples)

| folder | input | p | layers |
|---|---|---|---|
{table}

BatchNorm running statistics were made non-trivial by train-mode passes on random data before
`eval()` (plus a small seeded nudge), so eval mode differs from train mode. BatchNorm/LayerNorm
affine parameters are random (not 1/0). Dropout is the identity in eval mode. GELU is the exact (erf) form; Softplus has
beta = 1, threshold = 20 (PyTorch defaults); avg_pool2d uses count_include_pad = true (irrelevant
with padding 0) and floor output sizes, like PyTorch. Token-id samples each repeat at least one id.

## Files in each folder

| file | content |
|---|---|
| `model.json` | the network in influence4j's format-2 JSON; node names are PyTorch module names, so parameters are `<node>.weight` / `<node>.bias` and BatchNorm buffers `<node>.running_mean` / `<node>.running_var`; parameterized nodes are listed in `named_parameters()` order |
| `state.safetensors` | the module's `state_dict` in float64 (F64, little-endian), `num_batches_tracked` left out, in `state_dict` order |
| `x.npy` | inputs, float64 `[n, *input shape]`, or int64 `[n, T]` token ids |
| `y.npy` | int64 class labels `[n]` |
| `logits.npy` | float64 `[n, classes]`, PyTorch's eval-mode outputs |
| `losses.npy` | float64 `[n]`, per-sample cross-entropy (`reduction='none'`) |
| `grads.npy` | float64 `[n, p]`, gradient of each sample's own loss, flattened and concatenated in `named_parameters()` order, each tensor row-major |
| `v.npy` | float64 `[p]`, a seeded standard-normal direction |
| `hvp.npy` | float64 `[p]`, Hessian of the MEAN cross-entropy over the n samples times `v` (double backward) |
| `gnvp.npy` | float64 `[p]`, Gauss-Newton product (1/n) Σ_i J_iᵀ H_i J_i v with J_i = ∂logits_i/∂θ and H_i = diag(p_i) − p_i p_iᵀ (softmax probabilities) |

All `.npy` files are standard NumPy format version 1.0, C order, little-endian.

## Checks made by the generator

Before writing, the script asserts (rtol 1e-10) that an independent NumPy interpreter of
`model.json` + `state.safetensors` reproduces PyTorch's logits and losses; that the per-sample
gradients equal J_iᵀ(softmax_i − onehot_i) and the Gauss-Newton product equals the one built from an
explicit Jacobian (`torch.autograd.functional.jacobian`); and that the HVP equals the explicit
Hessian (`torch.autograd.functional.hessian`) times `v`. Each folder stays under 100 KB.
"""

LAYERS = {
    "lenet": "conv2d(1→4, 3) · relu · max_pool2d(2) · conv2d(4→6, 3, pad 1) · tanh · avg_pool2d(2) · "
             "flatten(24) · dense(24→10) · gelu · dense(10→3)",
    "resnet": "conv2d stem(3→4, 3, pad 1) · batch_norm · relu · [conv2d(4→4, 3, pad 1, no bias) · batch_norm · "
              "relu · conv2d(4→4, 3, pad 2, dilation 2, no bias) · batch_norm] + skip · relu · "
              "conv2d(4→6, 1, stride 2) · global_avg_pool · dropout(0.3) · dense(6→3)",
    "embed_mean": "embedding(20, 5) · mean over tokens · dense(5→4) · sigmoid · dense(4→3)",
    "embed_layernorm": "embedding(20, 6) · layer_norm(6) · dense(6→6) per token · softplus · mean over tokens · "
                       "dense(6→3)",
}


def main():
    if not os.path.isdir(os.path.join(REPO_ROOT, "backend-testkit")):
        sys.exit("run from the repository root")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rows = []
    for index, (name, ctor, nodes_fn, spec, classes) in enumerate(NETWORKS):
        p = build(index, name, ctor, nodes_fn, spec, classes)
        shape = "×".join(str(s) for s in spec["shape"])
        inp = f"float [{shape}]" if spec["dtype"] == "float" else f"int64 ids [{shape}], vocab {spec['vocab']}"
        rows.append(f"| `{name}` | {inp} | {p} | {LAYERS[name]} |")
    with open(os.path.join(FIXTURES, "README.md"), "w") as f:
        f.write(README.format(torch_version=torch.__version__, numpy_version=np.__version__, n=N,
                              table="\n".join(rows)))


if __name__ == "__main__":
    main()
