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

# tiny-mlp-dropout.pt: the same weights with a Dropout(0.5) between the layers (parameters 0.* and
# 3.*, the same flat order); in eval mode it computes exactly what tiny-mlp.pt computes.
torch.manual_seed(7)
dropout = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(3, 2))
with torch.no_grad():
    dropout[0].weight.copy_(model[0].weight)
    dropout[0].bias.copy_(model[0].bias)
    dropout[3].weight.copy_(model[2].weight)
    dropout[3].bias.copy_(model[2].bias)
dropout.train()  # saved in training mode, as a training loop leaves it: influence4j must switch to eval
torch.jit.script(dropout).save("tiny-mlp-dropout.pt")

# tiny-bn.pt: Linear(4, 3), BatchNorm1d(3) with non-trivial running statistics, Tanh, Linear(3, 2);
# in eval mode a sample's loss does not depend on the other samples of its batch.
torch.manual_seed(8)
bn = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
with torch.no_grad():
    bn[1].running_mean.copy_(torch.tensor([0.3, -0.2, 0.1]))
    bn[1].running_var.copy_(torch.tensor([0.5, 2.0, 1.5]))
bn.train()  # saved in training mode: influence4j must use the running statistics anyway
torch.jit.script(bn).save("tiny-bn.pt")
