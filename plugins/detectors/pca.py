"""``pca``: principal component analysis on flattened pixels; the anomaly score is the error of
reconstructing an image from its top components (a classical baseline for every autoencoder)."""

from __future__ import annotations

import torch
from sklearn.decomposition import PCA as SkPCA

from bench import hookimpl
from bench.constraints import COUNT, Interval, OneOf
from bench.detector import Detector
from bench.images import ImageBatches, InputSpec


class PCADetector(Detector):
    name = "pca"
    produces = ("reconstruction",)
    default_scorer = "mse"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"n_components": 0.9}  # a float keeps that fraction of the variance
    # sklearn's PCA: a count of components, a fraction of the variance, or None for all.
    hparam_constraints = {"n_components": (COUNT, Interval(0, 1, closed="neither"), OneOf((None,)))}

    def fit(self, train: ImageBatches) -> PCADetector:
        x = train.all().flatten(1).cpu().numpy()
        self.pca = SkPCA(n_components=self.hparams["n_components"], random_state=self.ctx.seed)
        self.pca.fit(x)
        return self

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        flat = x.flatten(1).cpu().numpy()
        recon = self.pca.inverse_transform(self.pca.transform(flat))
        return {"reconstruction": torch.from_numpy(recon).to(x).reshape(x.shape)}

    def parameter_count(self) -> int:
        return int(self.pca.components_.size + self.pca.mean_.size)


@hookimpl
def bench_register_detectors(register):
    register(PCADetector)
