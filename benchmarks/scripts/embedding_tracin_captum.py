#!/usr/bin/env python3
"""Captum's TracInCP on the embedding text classifier of EmbeddingTracIn.java (the Java side): a 30,000 x 64
table, 32 token ids a sample drawn from a Zipf law (weight 1/(v+1)), mean over the tokens, Linear 64->32, tanh,
Linear 32->10; two checkpoints (theta_0 and 1.1 theta_0, learning rate 0.1), float32, on PyTorch's CPU build.
Captum's batched sample gradients cover Linear and Conv2d only, so an nn.Embedding needs
sample_wise_grads_per_batch=False (per-sample Jacobians; the loss must then be unreduced).

    embedding_tracin_captum.py self N [layer,...]
    embedding_tracin_captum.py influences M N [layer,...]

prints, after one untimed call, the median, minimum and maximum seconds of 3 calls and the peak RSS.
Needs PyTorch and Captum (pip install torch captum), as side-by-side.sh does."""
import os
import resource
import sys
import tempfile
import time

import torch
import torch.nn as nn
from torch.utils.data import TensorDataset
from captum.influence import TracInCP

from embedding_model import workload


def main(argv):
    self_influence = len(argv) >= 2 and argv[0] == "self"
    if not self_influence and not (len(argv) >= 3 and argv[0] == "influences"):
        sys.exit(__doc__)
    n = int(argv[1 if self_influence else 2])
    m = 0 if self_influence else int(argv[1])
    rest = argv[2 if self_influence else 3:]
    layers = rest[0].split(",") if rest else None
    ids, labels, model = workload(n)
    folder = tempfile.mkdtemp()
    paths = []
    for c, scale in enumerate((1.0, 1.1)):
        state = {k: v * scale for k, v in model.state_dict().items()}
        paths.append(os.path.join(folder, f"checkpoint-{c}.pt"))
        torch.save({"model_state_dict": state, "learning_rate": 0.1}, paths[-1])

    def load(module, path):
        checkpoint = torch.load(path)
        module.load_state_dict(checkpoint["model_state_dict"])
        return checkpoint["learning_rate"]

    tracin = TracInCP(model, TensorDataset(ids, labels), paths, load, loss_fn=nn.CrossEntropyLoss(reduction="none"),
                      batch_size=256, sample_wise_grads_per_batch=False, layers=layers)
    seconds = []
    for r in range(4):
        start = time.perf_counter()
        if self_influence:
            tracin.self_influence(show_progress=False)
        else:
            tracin.influence((ids[:m], labels[:m]), show_progress=False)
        if r > 0:
            seconds.append(time.perf_counter() - start)
    seconds.sort()
    what = f"self-influence {n}" if self_influence else f"influences {m} x {n}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"captum embedding TracInCP {what}{' ' + str(layers) if layers else ''}: median {seconds[1]:.3f} s "
          f"({seconds[0]:.3f}-{seconds[2]:.3f}), peak RSS {peak} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
