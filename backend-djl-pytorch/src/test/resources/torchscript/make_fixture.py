"""Generates the TorchScript fixtures of influence4j.

Run with PyTorch (tested with 1.13, Debian's python3-torch, python3-numpy, python3-onnx), from anywhere:
    /usr/bin/python3 backend-djl-pytorch/src/test/resources/torchscript/make_fixture.py

Beside this script (PtTorchScriptModelTest):
tiny-mlp.pt is the ModelSpec {"inputDim": 4, "layers": [{"type": "dense", "units": 3},
{"type": "activation", "name": "tanh"}, {"type": "dense", "units": 2}], "loss":
"softmax_cross_entropy", "dtype": "float32"} with seeded random weights; named_parameters()
order (0.weight, 0.bias, 2.weight, 2.bias) is the flat parameter order of influence4j.

In backend-testkit's resources, org/influence4j/backend/testkit/torchscript/ (shared by the backend
and command-line tests; see write_shared below): cnn/ and embed/, each a TorchScript module with
PyTorch's eval-mode outputs, and fashion_cnn/model.pt, the float64 TorchScript twin of the ONNX
fixture onnx/fashion_cnn for TracIn with the checkpoints of onnx/fashion_cnn_checkpoints.
"""
import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", ".."))
TESTKIT = os.path.join(REPO_ROOT, "backend-testkit", "src", "main", "resources", "org", "influence4j", "backend",
                       "testkit")
SHARED = os.path.join(TESTKIT, "torchscript")
N = 6  # samples per shared fixture

sys.path.insert(0, os.path.join(REPO_ROOT, "backend-testkit", "src", "test-fixtures"))
import make_onnx_fixtures as onnx_fixtures  # noqa: E402  (per_sample, the Fashion CNN and the safetensors reader)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def write_tiny():
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    model.eval()
    scripted = torch.jit.script(model)
    scripted.save(os.path.join(HERE, "tiny-mlp.pt"))
    for name, p in model.named_parameters():
        print(name, tuple(p.shape), p.detach().flatten().tolist())

    # tiny-mlp-dropout.pt: the same weights with a Dropout(0.5) between the layers (parameters 0.* and
    # 3.*, the same flat order); in eval mode it computes exactly what tiny-mlp.pt computes.
    torch.manual_seed(7)
    dropout = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Dropout(0.5),
                                  torch.nn.Linear(3, 2))
    with torch.no_grad():
        dropout[0].weight.copy_(model[0].weight)
        dropout[0].bias.copy_(model[0].bias)
        dropout[3].weight.copy_(model[2].weight)
        dropout[3].bias.copy_(model[2].bias)
    dropout.train()  # saved in training mode, as a training loop leaves it: influence4j must switch to eval
    torch.jit.script(dropout).save(os.path.join(HERE, "tiny-mlp-dropout.pt"))

    # tiny-bn.pt: Linear(4, 3), BatchNorm1d(3) with non-trivial running statistics, Tanh, Linear(3, 2);
    # in eval mode a sample's loss does not depend on the other samples of its batch.
    torch.manual_seed(8)
    bn = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        bn[1].running_mean.copy_(torch.tensor([0.3, -0.2, 0.1]))
        bn[1].running_var.copy_(torch.tensor([0.5, 2.0, 1.5]))
    bn.train()  # saved in training mode: influence4j must use the running statistics anyway
    torch.jit.script(bn).save(os.path.join(HERE, "tiny-bn.pt"))


class EmbedMean(nn.Module):
    """int64 token ids [N, T] -> Embedding(20, 5) -> mean over tokens -> Tanh -> Linear(5, 3)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 5)
        self.fc = nn.Linear(5, 3)

    def forward(self, ids):
        return self.fc(torch.tanh(self.emb(ids).mean(dim=1)))


def make_cnn():
    """[N, 1, 8, 8] -conv3-> [N, 4, 6, 6] -BatchNorm, ReLU, pool2-> [N, 4, 3, 3] -Dropout, flatten-> 36 -> 3."""
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
                         nn.Flatten(), nn.Linear(36, 3))


def write_fixture(name, model, x, y):
    """Writes <name>/model.pt (saved in training mode, as a training loop leaves a module: influence4j must
    switch it to eval mode), x.npy, y.npy (int64), logits.npy, losses.npy, grads.npy (float32, eval mode)."""
    folder = os.path.join(SHARED, name)
    os.makedirs(folder, exist_ok=True)
    model.eval()
    logits, losses, grads, _ = onnx_fixtures.per_sample(model, x, y)
    with torch.no_grad():
        if any(isinstance(m, (nn.BatchNorm2d, nn.Dropout)) for m in model.modules()):
            train_logits = copy.deepcopy(model).train()(x)  # a copy: a train-mode pass updates running statistics
            assert (train_logits - logits).abs().max() > 1e-3, "eval mode must matter for " + name
    model.train()
    torch.jit.script(model).save(os.path.join(folder, "model.pt"))
    np.save(os.path.join(folder, "x.npy"), x.numpy())
    np.save(os.path.join(folder, "y.npy"), y.numpy().astype(np.int64))
    np.save(os.path.join(folder, "logits.npy"), logits.numpy().astype(np.float32))
    np.save(os.path.join(folder, "losses.npy"), losses.numpy().astype(np.float32))
    np.save(os.path.join(folder, "grads.npy"), grads.detach().numpy().astype(np.float32))
    print(name, "p =", grads.shape[1], "logits", logits[0].tolist())


def write_shared():
    # cnn: Conv2d, BatchNorm2d (running statistics made non-trivial by train-mode passes), ReLU, MaxPool2d,
    # Dropout, Flatten, Linear
    torch.manual_seed(11)
    cnn = make_cnn()
    with torch.no_grad():
        cnn[1].weight.uniform_(0.5, 1.5)
        cnn[1].bias.uniform_(-0.3, 0.3)
        cnn.train()
        for _ in range(3):
            cnn(torch.randn(16, 1, 8, 8) * 1.5 + 0.2)
    x = torch.randn(N, 1, 8, 8)
    y = torch.randint(0, 3, (N,))
    write_fixture("cnn", cnn, x, y)

    # embed: int64 token ids [N, 6] over a vocabulary of 20
    torch.manual_seed(12)
    embed = EmbedMean()
    ids = torch.randint(0, 20, (N, 6))
    write_fixture("embed", embed, ids, torch.randint(0, 3, (N,)))

    # fashion_cnn: the module of onnx/fashion_cnn with its state_dict, in float64, for `tracin --torchscript`
    # against `tracin --onnx ... --dtype float64` with the checkpoints of onnx/fashion_cnn_checkpoints
    fashion = onnx_fixtures.make_fashion_cnn()
    with open(os.path.join(TESTKIT, "onnx", "fashion_cnn", "state.safetensors"), "rb") as f:
        state = onnx_fixtures.read_safetensors_f32(f.read())
    fashion.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    fashion = fashion.double().eval()
    os.makedirs(os.path.join(SHARED, "fashion_cnn"), exist_ok=True)
    torch.jit.script(fashion).save(os.path.join(SHARED, "fashion_cnn", "model.pt"))


if __name__ == "__main__":
    write_tiny()
    write_shared()
