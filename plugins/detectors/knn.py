"""``knn``: distance to the nearest training images on flattened pixels.

The score is the mean Euclidean distance to the ``k`` nearest training images (the averaged
k-NN score of Angiulli & Pizzuti 2002). Simple, and on one-class image benchmarks often
stronger than it has any right to be, which is why every deep detector should be compared
with it.
"""

from __future__ import annotations

import torch
from sklearn.neighbors import NearestNeighbors

from bench import hookimpl
from bench.constraints import COUNT
from bench.detector import Detector
from bench.images import ImageBatches, InputSpec


class KNNDetector(Detector):
    name = "knn"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"k": 5}
    hparam_constraints = {"k": COUNT}

    def fit(self, train: ImageBatches) -> KNNDetector:
        self.train_matrix = train.all().flatten(1).cpu().numpy()
        k = min(int(self.hparams["k"]), len(self.train_matrix))
        self.neighbours = NearestNeighbors(n_neighbors=k).fit(self.train_matrix)
        return self

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        distances, _ = self.neighbours.kneighbors(x.flatten(1).cpu().numpy())
        return {"score": torch.from_numpy(distances.mean(axis=1)).float()}

    def parameter_count(self) -> int:
        # Nothing is learned; the memorised training images are the model.
        return int(self.train_matrix.size)


@hookimpl
def bench_register_detectors(register):
    register(KNNDetector)
