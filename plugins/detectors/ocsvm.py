"""``ocsvm``: the one-class SVM (Schölkopf et al. 2001) with an RBF kernel on flattened pixels.

It finds the smallest kernel-space region holding a ``1 - nu`` fraction of the training images;
the score is the negated signed distance to its boundary (higher = further outside). Fitting is
quadratic to cubic in the number of images, so ``max_samples`` fits on a seeded random subset
when the training set is larger (0 keeps every image).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.svm import OneClassSVM

from bench import hookimpl
from bench.constraints import FRACTION, POSITIVE, Interval, OneOf
from bench.detector import Detector
from bench.images import ImageBatches, InputSpec


class OCSVMDetector(Detector):
    name = "ocsvm"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"nu": 0.1, "gamma": "scale", "max_samples": 2000}
    hparam_constraints = {
        "nu": FRACTION,
        "gamma": (OneOf(("scale", "auto")), POSITIVE),
        "max_samples": Interval(0, integer=True),
    }

    def fit(self, train: ImageBatches) -> OCSVMDetector:
        x = train.all().flatten(1).cpu().numpy()
        limit = int(self.hparams["max_samples"])
        if 0 < limit < len(x):
            rng = np.random.default_rng(self.ctx.seed)
            x = x[np.sort(rng.choice(len(x), size=limit, replace=False))]
        self.svm = OneClassSVM(kernel="rbf", nu=self.hparams["nu"], gamma=self.hparams["gamma"])
        self.svm.fit(x)
        return self

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        score = -self.svm.decision_function(x.flatten(1).cpu().numpy())
        return {"score": torch.from_numpy(score).float()}

    def parameter_count(self) -> int:
        return int(self.svm.support_vectors_.size + self.svm.dual_coef_.size)


@hookimpl
def bench_register_detectors(register):
    register(OCSVMDetector)
