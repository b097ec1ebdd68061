"""Which part of ``network = "theano"`` lifts Deep SVDD on MNIST (0.932 with the PyTorch network,
0.951 with the Theano one, leaderboards/paper and leaderboards/paper_theano): each run leaves one
part out and keeps the rest as ``leaderboards/suites/mnist_paper_theano.toml`` pins it.

Parts (``--without``):

- ``affine``: BatchNorm without a learned scale and shift, as in the PyTorch code;
- ``glorot``: torch's default initialisation instead of Lasagne's Glorot-uniform;
- ``dictionary``: the first convolution not set from the dictionary of 5x5 patches;
- ``decay-groups``: weight decay on every parameter, as the PyTorch code's Adam does.

The part is taken out by patching the built-in detector in this process, so jobs run one at a
time here (``--workers 1``). Their rows record the config of an ordinary ``network = "theano"``
run: give a store of their own, never a board's.

    python -m benchmarks.theano_network_ablation --without dictionary --classes 2,3,5 \\
        --seeds 0 --store /tmp/ablation-dictionary.sqlite

379-455 s a job here, two at once on the 2 cores (150 + 150 epochs, about 6000 images).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from bench.cli import cli
from bench.torch_detector import TorchDetector
from plugins.detectors import lenet
from plugins.detectors.ruff2018 import RuffRecipe

SUITE = Path(__file__).resolve().parents[1] / "leaderboards" / "suites" / "mnist_paper_theano.toml"
NORM_ACT = lenet._norm_act
PATCHES = {
    "affine": lambda: mock.patch.object(lenet, "_norm_act", lambda c, affine: NORM_ACT(c, False)),
    "glorot": lambda: mock.patch.object(lenet, "theano_init", lambda model, conv_gain: None),
    "dictionary": lambda: mock.patch.object(RuffRecipe, "init_first_layer", lambda s, e: None),
    "decay-groups": lambda: mock.patch.object(
        RuffRecipe, "parameter_groups", TorchDetector.parameter_groups
    ),
}


@contextlib.contextmanager
def without(parts: list[str]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for part in parts:
            stack.enter_context(PATCHES[part]())
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--without", required=True, choices=sorted(PATCHES), action="append")
    parser.add_argument("--classes", required=True, help="e.g. 2,3,5")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--store", required=True, type=Path)
    args = parser.parse_args()
    command = [
        "run", "--suite", str(SUITE), "-d", "deep_svdd", "--classes", args.classes,
        "--seeds", args.seeds, "--store", str(args.store), "--workers", "1", "--resume",
    ]  # fmt: skip
    with without(args.without):
        cli.main(command, standalone_mode=False)


if __name__ == "__main__":
    main()
