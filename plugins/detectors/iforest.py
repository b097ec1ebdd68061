"""``iforest``: Isolation Forest (Liu, Ting & Zhou 2008) on flattened pixels.

Anomalies are isolated by fewer random axis-aligned splits than normal points. A classical,
training-free-in-spirit baseline: if a deep detector cannot beat it, the deep part is not earning
its cost. Score: the negated ``score_samples`` (sklearn's is higher for normal points).
"""

from __future__ import annotations

import torch
from sklearn.ensemble import IsolationForest

from bench import hookimpl
from bench.constraints import COUNT, FRACTION, OneOf
from bench.detector import Detector
from bench.images import ImageBatches, InputSpec


class IForestDetector(Detector):
    name = "iforest"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"n_estimators": 100, "max_samples": "auto"}
    # sklearn's IsolationForest: max_samples is "auto", a count or a fraction of the images.
    hparam_constraints = {
        "n_estimators": COUNT,
        "max_samples": (OneOf(("auto",)), COUNT, FRACTION),
    }
    stochastic = True  # the trees' random splits follow the harness's seed

    def fit(self, train: ImageBatches) -> IForestDetector:
        self.forest = IsolationForest(
            n_estimators=int(self.hparams["n_estimators"]),
            max_samples=self.hparams["max_samples"],
            random_state=self.ctx.seed,
        )
        self.forest.fit(train.all().flatten(1).cpu().numpy())
        return self

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        score = -self.forest.score_samples(x.flatten(1).cpu().numpy())
        return {"score": torch.from_numpy(score).float()}

    def parameter_count(self) -> int:
        # The learned structure is the trees: count their nodes.
        return int(sum(tree.tree_.node_count for tree in self.forest.estimators_))


@hookimpl
def bench_register_detectors(register):
    register(IForestDetector)
