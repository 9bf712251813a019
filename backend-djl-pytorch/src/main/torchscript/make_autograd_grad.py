"""Generates src/main/resources/org/influence4j/backend/pytorch/autograd-grad.pt, the TorchScript helper
through which PtTorchScriptModel takes derivatives with torch.autograd.grad: DJL's JNI exposes only
Tensor.backward, which accumulates into the parameters' .grad; a create_graph backward leaves a
parameter <-> gradient reference cycle there that only resetting .grad to None breaks, and DJL
cannot reset it. torch.autograd.grad returns the gradients instead, so nothing is left on the
parameters and every graph is freed with the tensors that hold it.

Run with PyTorch (tested with 1.13, Debian's python3-torch), from anywhere:
    /usr/bin/python3 backend-djl-pytorch/src/main/torchscript/make_autograd_grad.py
"""
import os
from typing import List

import torch


class AutogradGrad(torch.nn.Module):
    def forward(self, output: torch.Tensor, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        """d output / d inputs with its graph (create_graph=True), for a second derivative."""
        return self._grad(output, inputs, True)

    @torch.jit.export
    def first_order(self, output: torch.Tensor, inputs: List[torch.Tensor]) -> List[torch.Tensor]:
        """d output / d inputs without a graph."""
        return self._grad(output, inputs, False)

    def _grad(self, output: torch.Tensor, inputs: List[torch.Tensor], create_graph: bool) -> List[torch.Tensor]:
        # retain_graph: the caller may differentiate the same graph again (one row of an HVP block each);
        # the graph is freed when the caller closes its tensors
        grads = torch.autograd.grad([output], inputs, retain_graph=True, create_graph=create_graph,
                                    allow_unused=True)
        out: List[torch.Tensor] = []
        for i in range(len(inputs)):
            g = grads[i]
            if g is None:  # a parameter the output does not depend on
                out.append(torch.zeros_like(inputs[i]))
            else:
                out.append(g)
        return out


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    target = os.path.join(here, "..", "resources", "org", "influence4j", "backend", "pytorch", "autograd-grad.pt")
    torch.jit.script(AutogradGrad()).save(os.path.normpath(target))
