#!/usr/bin/env python3
"""The reference side of the query table: Captum and pyDVL seconds on this machine.

Times, with Captum and pyDVL on PyTorch (CPU), the queries that the Java benchmark
``org.influence4j.benchmarks.QueryTable`` (digits rows) and ``FashionQueryTable``
(Fashion-MNIST CNN rows) time in influence4j, on the same protocol and under the
same row names, so that the Java table can print ratios against reference seconds
measured on the same machine: write them with ``--out FILE`` and give that file to
the Java side as ``-Dinfluence4j.bench.reference=FILE``.

Digits protocol: the bundled ``digits.csv.gz`` (1,797 rows of 64 pixels 0..16 then
the label, no header), features / 16, the first 1,437 rows to train and the next
360 to test, float32; MLP 64-32 (tanh)-10 with cross-entropy, trained by SGD
(lr 0.1, batch 32, 30 epochs, shuffled, seeded), a checkpoint (state dict and
learning rate) every 5 epochs: 6; lambda = 0.1; batches of 512 for the influence
functions, 256 for TracInCP, 512 for TracInCPFast; EK-FAC without the diagonal
refit (as QueryTable).

Fashion-MNIST protocol (only when Debian's dataset-fashion-mnist is installed): the
first 2,000 training and 500 test (t10k) images, pixels / 255, float32
[n, 1, 28, 28]; CNN conv 1-8 5x5, ReLU, max-pool 2, conv 8-16 5x5, ReLU, max-pool 2,
dense 256-32, tanh, dense 32-10; SGD (lr 0.05, batch 32, 8 epochs), a checkpoint
every 2 epochs: 4; lambda = 0.01; batches of 256; Arnoldi on the Gauss-Newton
matrix; EK-FAC with the diagonal refit; block CG and direct inversion of pyDVL's
Gauss-Newton operator, which is the empirical Fisher (1/n) sum_i g_i g_i^T, as
influence4j's empirical-fisher curvature (as FashionQueryTable).

Timing (QueryTable.time's rule): calls, untimed, until 3 s have passed (at least one;
the JVM side needs them to compile its code); a call shorter than 0.25 s is
repeated within each sample to fill 0.25 s and the sample is their mean; ``runs``
samples, sorted; the table shows the median (the upper one for an even count) and
the range. The training and the fits that a row does not time happen before it.

Usage: ``python3 benchmarks/scripts/reference_table.py [--runs N] [--filter TEXT]
[--out FILE]``. ``--filter`` keeps the rows whose query contains TEXT, ignoring
case; the CNN rows run only when it is empty or contains "cnn", the digits rows
only when it does not contain "cnn" (QueryTable's rule). stdout: a Markdown table;
``--out``: a TSV with the header ``query tool seconds min max`` and one line per
timed row, written to a temporary file and renamed. Needs
``pip install torch captum "pydvl[influence]"`` (pyDVL's influence package imports
dask, distributed and zarr, which only its ``influence`` extra installs).

The initial weights are PyTorch's (seeded) and the shuffles torch's, so the
trained parameters differ from influence4j's; the shapes, batch sizes and
checkpoints, which the seconds depend on, are the same. Where the reference cannot
do what influence4j does, the row's note says so.
Captum's NaiveInfluenceFunction sums the loss Hessian over the data set where
influence4j averages it, so it gets hessian_reg = lambda * n_train (the same
regularised operator, times n_train) and projection_dim = p (the full inverse).
pyDVL 0.10 has no precomputed Gauss-Newton factors for Arnoldi: the precompute fit
row repeats the plain Gauss-Newton fit's measurement. pyDVL's EK-FAC supports
Linear layers only: the CNN EK-FAC rows are skipped, without seconds.
"""
from __future__ import annotations

import argparse
import gzip
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Optional, Sequence, TextIO

try:
    import captum
    import numpy as np
    import pydvl
    import torch
    from captum.influence import NaiveInfluenceFunction, TracInCP, TracInCPFast
    from pydvl.influence import InfluenceMode
    from pydvl.influence.base_influence_function_model import (
        NotImplementedLayerRepresentationException,
    )
    from pydvl.influence.torch import (ArnoldiInfluence, CgInfluence, DirectInfluence, EkfacInfluence,
                                       SecondOrderMode)
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    IMPORT_ERROR: Optional[ImportError] = None
except ImportError as error:
    IMPORT_ERROR = error

REPOSITORY = Path(__file__).resolve().parents[2]
DIGITS_CSV = REPOSITORY / "io/src/main/resources/org/influence4j/io/data/digits.csv.gz"
FASHION = Path("/usr/share/datasets/fashion-mnist")
MIN_SAMPLE_SECONDS = 0.25
WARM_UP_SECONDS = 3.0
MAX_REPEATS = 1000

Work = Callable[[], object]


class Unsupported(Exception):
    """A query that the reference tool cannot run; the message is the row's note."""


@dataclass(frozen=True)
class Protocol:
    """A data set split, its model and training recipe, and the batch sizes of the queries."""

    name: str
    x_train: "torch.Tensor"
    y_train: "torch.Tensor"
    x_test: "torch.Tensor"
    y_test: "torch.Tensor"
    build: Callable[[], "nn.Sequential"]
    learning_rate: float
    epochs: int
    checkpoint_every: int
    init_seed: int
    shuffle_seed: int
    regularization: float
    tracin_batch: int
    fast_batch: int
    influence_batch: int
    ekfac_update_diagonal: bool


@dataclass
class Workload:
    """A model trained on a protocol, with its checkpoints, and the reference models of its queries."""

    protocol: Protocol
    directory: Path
    model: "nn.Sequential" = field(init=False)
    checkpoints: list[str] = field(init=False)

    def __post_init__(self) -> None:
        torch.manual_seed(self.protocol.init_seed)
        self.model = self.protocol.build()
        self.checkpoints = train(self.model, self.protocol, self.directory)

    @property
    def train_set(self) -> "TensorDataset":
        return TensorDataset(self.protocol.x_train, self.protocol.y_train)

    @property
    def test_batch(self) -> tuple["torch.Tensor", "torch.Tensor"]:
        return self.protocol.x_test, self.protocol.y_test

    def tracincp(self) -> "TracInCP":
        return TracInCP(self.model, self.train_set, self.checkpoints, load_checkpoint,
                        loss_fn=nn.CrossEntropyLoss(reduction="sum"),
                        batch_size=self.protocol.tracin_batch, sample_wise_grads_per_batch=True)

    def tracincp_fast(self) -> "TracInCPFast":
        return TracInCPFast(self.model, self.model[-1], self.train_set, self.checkpoints, load_checkpoint,
                            loss_fn=nn.CrossEntropyLoss(reduction="sum"), batch_size=self.protocol.fast_batch)

    def naive(self) -> "NaiveInfluenceFunction":
        """Captum's exact influence function; its constructor forms and eigendecomposes the Hessian."""
        return NaiveInfluenceFunction(self.model, self.train_set, self.checkpoints[-1], load_checkpoint,
                                      loss_fn=nn.CrossEntropyLoss(reduction="sum"),
                                      batch_size=self.protocol.influence_batch, sample_wise_grads_per_batch=True,
                                      projection_dim=sum(p.numel() for p in self.model.parameters()),
                                      hessian_reg=self.protocol.regularization * len(self.protocol.y_train))

    def loader(self) -> "DataLoader":
        return DataLoader(self.train_set, batch_size=self.protocol.influence_batch)

    def cg_influences(self) -> "torch.Tensor":
        """pyDVL's block conjugate gradient: a fit and the influence matrix."""
        model = CgInfluence(self.model, nn.functional.cross_entropy, regularization=self.protocol.regularization,
                            solve_simultaneously=True)
        return self.influences(model.fit(self.loader()))

    def cg_gauss_newton_influences(self) -> "torch.Tensor":
        """pyDVL's block conjugate gradient on its Gauss-Newton operator (the empirical Fisher)."""
        model = CgInfluence(self.model, nn.functional.cross_entropy, regularization=self.protocol.regularization,
                            solve_simultaneously=True, second_order_mode=SecondOrderMode.GAUSS_NEWTON)
        return self.influences(model.fit(self.loader()))

    def direct_gauss_newton_influences(self) -> "torch.Tensor":
        """pyDVL's direct inversion of its Gauss-Newton operator (the dense p x p matrix)."""
        model = DirectInfluence(self.model, nn.functional.cross_entropy, regularization=self.protocol.regularization,
                                second_order_mode=SecondOrderMode.GAUSS_NEWTON)
        return self.influences(model.fit(self.loader()))

    def arnoldi(self, mode: "SecondOrderMode") -> "ArnoldiInfluence":
        model = ArnoldiInfluence(self.model, nn.functional.cross_entropy,
                                 regularization=self.protocol.regularization, rank=50, second_order_mode=mode)
        return model.fit(self.loader())

    def ekfac(self) -> "EkfacInfluence":
        model = EkfacInfluence(self.model, update_diagonal=self.protocol.ekfac_update_diagonal,
                               hessian_regularization=self.protocol.regularization)
        try:
            return model.fit(self.loader())
        except NotImplementedLayerRepresentationException as error:
            raise Unsupported(f"skipped: pyDVL's EK-FAC cannot fit this model ({error})") from error

    def influences(self, model: "CgInfluence | ArnoldiInfluence | EkfacInfluence") -> "torch.Tensor":
        """The up-weighting influences of a fitted pyDVL model, test x train."""
        p = self.protocol
        return model.influences(p.x_test, p.y_test, p.x_train, p.y_train, mode=InfluenceMode.Up)


@dataclass(frozen=True)
class RowSpec:
    """A query as the Java table names it, its tool, and what prepares (untimed) its timed work."""

    query: str
    tool: str
    prepare: Callable[[Workload], Work]
    note: str = ""
    same_as: Optional[str] = None  # a row whose measurement this one reuses


@dataclass(frozen=True)
class Result:
    """A row's sorted seconds, or none and the reason."""

    spec: RowSpec
    seconds: Sequence[float]
    note: str


TracInMethod = Callable[[Workload], "TracInCP | TracInCPFast"]


def tracin_self_influence(method: TracInMethod) -> Callable[[Workload], Work]:
    """The self-influence of every training sample under a Captum TracIn method."""
    return lambda w: method(w).self_influence


def tracin_influences(method: TracInMethod) -> Callable[[Workload], Work]:
    """The test x train influence matrix under a Captum TracIn method."""
    return lambda w: partial(method(w).influence, w.test_batch)


def tracin_top5(method: TracInMethod) -> Callable[[Workload], Work]:
    """Each test sample's five strongest proponents under a Captum TracIn method."""
    return lambda w: partial(method(w).influence, w.test_batch, k=5, proponents=True)


def exact_fit(w: Workload) -> Work:
    return w.naive


def exact_influences(w: Workload) -> Work:
    return partial(w.naive().influence, w.test_batch)


def block_cg(w: Workload) -> Work:
    return w.cg_influences


def arnoldi_fit(w: Workload) -> Work:
    return partial(w.arnoldi, SecondOrderMode.HESSIAN)


def arnoldi_influences(w: Workload) -> Work:
    return partial(w.influences, w.arnoldi(SecondOrderMode.HESSIAN))


def arnoldi_gn_fit(w: Workload) -> Work:
    return partial(w.arnoldi, SecondOrderMode.GAUSS_NEWTON)


def arnoldi_gn_influences(w: Workload) -> Work:
    return partial(w.influences, w.arnoldi(SecondOrderMode.GAUSS_NEWTON))


def ekfac_fit(w: Workload) -> Work:
    return w.ekfac


def ekfac_influences(w: Workload) -> Work:
    return partial(w.influences, w.ekfac())


NAIVE_NOTE = "NaiveInfluenceFunction constructor; projection_dim = p, hessian_reg = lambda * n_train"
NO_PRECOMPUTE = "pyDVL 0.10 cannot precompute the Gauss-Newton factors"

DIGITS_ROWS = [
    RowSpec("TracInCP self-influence", "Captum", tracin_self_influence(Workload.tracincp)),
    RowSpec("TracInCP influences 360 x 1,437", "Captum", tracin_influences(Workload.tracincp)),
    RowSpec("TracInCP top-5 proponents", "Captum", tracin_top5(Workload.tracincp)),
    RowSpec("TracInCPFast self-influence", "Captum", tracin_self_influence(Workload.tracincp_fast)),
    RowSpec("TracInCPFast influences", "Captum", tracin_influences(Workload.tracincp_fast)),
    RowSpec("TracInCPFast top-5", "Captum", tracin_top5(Workload.tracincp_fast)),
    RowSpec("exact fit (Direct)", "Captum", exact_fit, NAIVE_NOTE),
    RowSpec("exact influences 360 x 1,437 (fitted)", "Captum", exact_influences),
    RowSpec("block CG influences (fit + scores)", "pyDVL", block_cg, "CgInfluence(solve_simultaneously=True)"),
    RowSpec("Arnoldi rank 50 fit", "pyDVL", arnoldi_fit),
    RowSpec("Arnoldi rank 50 influences (fitted)", "pyDVL", arnoldi_influences),
    RowSpec("EK-FAC fit", "pyDVL", ekfac_fit),
    RowSpec("EK-FAC influences (fitted)", "pyDVL", ekfac_influences),
]

CNN_ROWS = [
    RowSpec("cnn tracincp self-influence 2,000", "Captum", tracin_self_influence(Workload.tracincp)),
    RowSpec("cnn tracincp influences 500 x 2,000", "Captum", tracin_influences(Workload.tracincp)),
    RowSpec("cnn tracincpfast self-influence", "Captum", tracin_self_influence(Workload.tracincp_fast)),
    RowSpec("cnn tracincpfast influences", "Captum", tracin_influences(Workload.tracincp_fast)),
    RowSpec("cnn arnoldi rank 50 (gn) fit", "pyDVL", arnoldi_gn_fit, "second_order_mode=GAUSS_NEWTON"),
    RowSpec("cnn arnoldi rank 50 (gn, precompute) fit", "pyDVL", arnoldi_gn_fit,
            NO_PRECOMPUTE + ": the seconds of the (gn) fit row", same_as="cnn arnoldi rank 50 (gn) fit"),
    RowSpec("cnn arnoldi rank 50 (gn, precompute) influences", "pyDVL", arnoldi_gn_influences,
            NO_PRECOMPUTE + ": influences after the (gn) fit"),
    RowSpec("cnn ek-fac fit", "pyDVL", ekfac_fit),
    RowSpec("cnn ek-fac influences (fitted)", "pyDVL", ekfac_influences),
    RowSpec("cnn block cg (empirical fisher) influences 500 x 2,000 (fit + scores)", "pyDVL",
            lambda w: w.cg_gauss_newton_influences, "CgInfluence(GAUSS_NEWTON, solve_simultaneously=True)"),
    RowSpec("cnn direct (empirical fisher) influences 500 x 2,000 (fit + scores)", "pyDVL",
            lambda w: w.direct_gauss_newton_influences, "DirectInfluence(GAUSS_NEWTON)"),
    RowSpec("cnn arnoldi rank 50 (empirical fisher) fit", "pyDVL", arnoldi_gn_fit,
            "second_order_mode=GAUSS_NEWTON: the seconds of the (gn) fit row", same_as="cnn arnoldi rank 50 (gn) fit"),
    RowSpec("cnn arnoldi rank 50 (empirical fisher) influences", "pyDVL", arnoldi_gn_influences,
            "second_order_mode=GAUSS_NEWTON: the seconds of the (gn) influences row",
            same_as="cnn arnoldi rank 50 (gn, precompute) influences"),
]


def mlp() -> "nn.Sequential":
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))


def cnn() -> "nn.Sequential":
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 32), nn.Tanh(), nn.Linear(32, 10))


def digits_protocol() -> Protocol:
    """The digits split: features / 16, rows 0..1,436 train, 1,437..1,796 test."""
    with gzip.open(DIGITS_CSV, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    x = torch.from_numpy(table[:, :64] / 16.0)
    y = torch.from_numpy(table[:, 64].astype(np.int64))
    return Protocol("digits", x[:1437], y[:1437], x[1437:1797], y[1437:1797], mlp, learning_rate=0.1, epochs=30,
                    checkpoint_every=5, init_seed=0, shuffle_seed=1, regularization=0.1, tracin_batch=256,
                    fast_batch=512, influence_batch=512, ekfac_update_diagonal=False)


def read_idx(path: Path, n: int) -> "np.ndarray":
    """The first ``n`` items of a gzipped IDX file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        if magic[:3] != b"\x00\x00\x08":
            raise ValueError(f"{path}: not an IDX file of unsigned bytes")
        dims = [int.from_bytes(f.read(4), "big") for _ in range(magic[3])]
        item = math.prod(dims[1:])
        data = np.frombuffer(f.read(n * item), dtype=np.uint8)
    return data.reshape([n, *dims[1:]])


def fashion_split(split: str, n: int) -> tuple["torch.Tensor", "torch.Tensor"]:
    pixels = read_idx(FASHION / f"{split}-images-idx3-ubyte.gz", n).astype(np.float32) / 255.0
    labels = read_idx(FASHION / f"{split}-labels-idx1-ubyte.gz", n).astype(np.int64)
    return torch.from_numpy(pixels).reshape(n, 1, 28, 28), torch.from_numpy(labels)


def fashion_protocol() -> Protocol:
    """The first 2,000 training and 500 test images, pixels / 255."""
    x_train, y_train = fashion_split("train", 2000)
    x_test, y_test = fashion_split("t10k", 500)
    return Protocol("fashion", x_train, y_train, x_test, y_test, cnn, learning_rate=0.05, epochs=8,
                    checkpoint_every=2, init_seed=5, shuffle_seed=3, regularization=0.01, tracin_batch=256,
                    fast_batch=256, influence_batch=256, ekfac_update_diagonal=True)


def train(model: "nn.Module", p: Protocol, directory: Path) -> list[str]:
    """Mini-batch SGD on the mean cross-entropy; returns the checkpoint paths in epoch order."""
    shuffle = torch.Generator().manual_seed(p.shuffle_seed)
    batches = DataLoader(TensorDataset(p.x_train, p.y_train), batch_size=32, shuffle=True, generator=shuffle)
    optimizer = torch.optim.SGD(model.parameters(), lr=p.learning_rate)
    loss = nn.CrossEntropyLoss()
    paths = []
    for epoch in range(1, p.epochs + 1):
        for x, y in batches:
            optimizer.zero_grad()
            loss(model(x), y).backward()
            optimizer.step()
        if epoch % p.checkpoint_every == 0 or epoch == p.epochs:
            path = directory / f"{p.name}-epoch-{epoch:03d}.pt"
            torch.save({"model_state_dict": model.state_dict(), "learning_rate": p.learning_rate}, path)
            paths.append(str(path))
    return paths


def load_checkpoint(model: "nn.Module", path: str) -> float:
    """Captum's checkpoint loader: loads the parameters, returns the learning rate."""
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model_state_dict"])
    return checkpoint["learning_rate"]


def measure(work: Work, runs: int) -> list[float]:
    """QueryTable.time: warm-up calls for WARM_UP_SECONDS (at least one), then ``runs`` samples (each the mean
    of enough calls to fill 0.25 s), sorted."""
    warm_up_start = time.perf_counter()
    while True:
        start = time.perf_counter()
        work()
        once = time.perf_counter() - start
        if time.perf_counter() - warm_up_start >= WARM_UP_SECONDS:
            break
    repeats = max(1, min(MAX_REPEATS, math.ceil(MIN_SAMPLE_SECONDS / max(once, 1e-6))))
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        seconds.append((time.perf_counter() - start) / repeats)
    return sorted(seconds)


def selected(rows: Sequence[RowSpec], wanted: str) -> list[RowSpec]:
    return [row for row in rows if wanted in row.query.lower()]


def run_rows(rows: Sequence[RowSpec], workload: Workload, runs: int, out: TextIO) -> list[Result]:
    """Times each row and prints it as it finishes."""
    print("| query | tool | seconds (min-max) | note |", file=out)
    print("|---|---|---|---|", file=out)
    results: dict[str, Result] = {}
    for row in rows:
        try:
            if row.same_as in results:
                seconds = results[row.same_as].seconds
            else:
                seconds = measure(row.prepare(workload), runs)
            result = Result(row, seconds, row.note)
        except Unsupported as reason:
            result = Result(row, [], str(reason))
        results[row.query] = result
        print(markdown(result), file=out, flush=True)
    return list(results.values())


def markdown(result: Result) -> str:
    s = result.seconds
    timed = f"{s[len(s) // 2]:.3f} ({s[0]:.3f}-{s[-1]:.3f})" if s else "-"
    return f"| {result.spec.query:<47} | {result.spec.tool:<6} | {timed:<21} | {result.note} |"


def table(protocol: Protocol, rows: Sequence[RowSpec], runs: int, out: TextIO) -> list[Result]:
    """Trains the protocol's model in a temporary folder and times its rows."""
    with tempfile.TemporaryDirectory(prefix="reference-table-") as directory:
        workload = Workload(protocol, Path(directory))
        parameters = sum(p.numel() for p in workload.model.parameters())
        print(f"\n{protocol.name}: p = {parameters}, {len(protocol.y_train)} train x {len(protocol.y_test)} test, "
              f"float32, lambda = {protocol.regularization}, median of {runs} after a warm-up", file=out)
        return run_rows(rows, workload, runs, out)


def write_tsv(results: Sequence[Result], path: Path) -> None:
    """Writes the timed rows to ``path`` through a temporary file in its folder and a rename."""
    lines = ["query\ttool\tseconds\tmin\tmax"]
    for r in results:
        if r.seconds:
            s = r.seconds
            lines.append(f"{r.spec.query}\t{r.spec.tool}\t{s[len(s) // 2]:.6g}\t{s[0]:.6g}\t{s[-1]:.6g}")
    folder = path.resolve().parent
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Captum and pyDVL seconds for influence4j's QueryTable.")
    parser.add_argument("--runs", type=int, default=3, help="timed samples per row (default 3)")
    parser.add_argument("--filter", default="", help="keep the rows whose query contains this, ignoring case")
    parser.add_argument("--out", type=Path, help="write the timed rows as TSV to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    if IMPORT_ERROR is not None:
        print(f"reference_table.py: {IMPORT_ERROR}; "
              "install the reference tools with: pip install torch captum 'pydvl[influence]'", file=sys.stderr)
        return 2
    wanted = args.filter.lower()
    print(f"torch {torch.__version__}, captum {captum.__version__}, pydvl {pydvl.__version__}, "
          f"{torch.get_num_threads()} threads")
    results: list[Result] = []
    if "cnn" not in wanted and selected(DIGITS_ROWS, wanted):
        results += table(digits_protocol(), selected(DIGITS_ROWS, wanted), args.runs, sys.stdout)
    fashion = (FASHION / "train-images-idx3-ubyte.gz").is_file()
    if fashion and (not wanted or "cnn" in wanted) and selected(CNN_ROWS, wanted):
        results += table(fashion_protocol(), selected(CNN_ROWS, wanted), args.runs, sys.stdout)
    if args.out is not None:
        write_tsv(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
