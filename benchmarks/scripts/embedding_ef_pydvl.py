#!/usr/bin/env python3
"""pyDVL's block conjugate gradient on its "Gauss-Newton" operator (the empirical Fisher) for the embedding
text classifier of EmbeddingEmpiricalFisher.java (the Java side; embedding_model.py), float32, on PyTorch's CPU
build, two threads. pyDVL forms each batch's per-sample gradients [256, 1.9 M] for every operator application.

    embedding_ef_pydvl.py cg M N

fits CgInfluence(GAUSS_NEWTON, solve_simultaneously=True, regularization=0.01) on N samples (batches of 256)
and computes the influences of the first M on all N; prints, after one untimed call, the median, minimum and
maximum seconds of 3 calls and the peak RSS. Needs PyTorch and pyDVL 0.10, as side-by-side.sh does."""
import resource
import sys
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from pydvl.influence import InfluenceMode
from pydvl.influence.torch import CgInfluence, SecondOrderMode

from embedding_model import workload


def main(argv):
    if len(argv) != 3 or argv[0] != "cg":
        sys.exit(__doc__)
    m, n = int(argv[1]), int(argv[2])
    torch.set_num_threads(2)
    ids, labels, model = workload(n)
    seconds = []
    for r in range(4):
        start = time.perf_counter()
        influence = CgInfluence(model, nn.functional.cross_entropy, regularization=0.01, solve_simultaneously=True,
                                second_order_mode=SecondOrderMode.GAUSS_NEWTON)
        influence.fit(DataLoader(TensorDataset(ids, labels), batch_size=256))
        influence.influences(ids[:m], labels[:m], ids, labels, mode=InfluenceMode.Up)
        if r > 0:
            seconds.append(time.perf_counter() - start)
    seconds.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"pyDVL embedding empirical Fisher block CG influences {m} x {n}: median {seconds[1]:.3f} s "
          f"({seconds[0]:.3f}-{seconds[2]:.3f}), peak RSS {peak} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
