"""Generates tiny-mlp.pt, the TorchScript fixture of PtTorchScriptModelTest.

Run with PyTorch (tested with 1.13, Debian's python3-torch): python3 make_fixture.py
The model is the ModelSpec {"inputDim": 4, "layers": [{"type": "dense", "units": 3},
{"type": "activation", "name": "tanh"}, {"type": "dense", "units": 2}], "loss":
"softmax_cross_entropy", "dtype": "float32"} with seeded random weights; named_parameters()
order (0.weight, 0.bias, 2.weight, 2.bias) is the flat parameter order of influence4j.
"""
import torch

torch.manual_seed(7)
model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
model.eval()
scripted = torch.jit.script(model)
scripted.save("tiny-mlp.pt")
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.detach().flatten().tolist())
