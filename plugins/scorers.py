"""Built-in scorers. Every score is per image and higher means more anomalous.

Reconstruction scorers (``mse``, ``l1``, ``max_error``) work with any detector that outputs a
``reconstruction``, so one autoencoder can be compared under each of them.
"""

from __future__ import annotations

import torch

from bench import hookimpl
from bench.outputs import CENTER, LATENT, LOGIT, LOGVAR, MU, RECONSTRUCTION, SCORE
from bench.scorer import Scorer

TOP_FRACTION = 0.01  # max_error averages the worst 1% of pixel errors


def _per_image(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


def mse(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    # The course used sqrt(sum of squared errors): a monotone map of this, so the same ranking.
    return _per_image((out[RECONSTRUCTION] - x) ** 2).mean(dim=1)


def l1(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return _per_image((out[RECONSTRUCTION] - x).abs()).mean(dim=1)


def max_error(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    # Local defects hide in a mean over thousands of pixels; the worst few pixels do not.
    errors = _per_image((out[RECONSTRUCTION] - x) ** 2)
    k = max(1, round(errors.shape[1] * TOP_FRACTION))
    return errors.topk(k, dim=1).values.mean(dim=1)


def elbo(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    # Negative ELBO with a unit-variance Gaussian decoder: squared error plus KL to N(0, I).
    reconstruction = _per_image((out[RECONSTRUCTION] - x) ** 2).sum(dim=1)
    mu, logvar = _per_image(out[MU]), _per_image(out[LOGVAR])
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
    return reconstruction + kl


def logit(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return out[LOGIT].reshape(-1)


def distance(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    latent = _per_image(out[LATENT])
    return ((latent - out[CENTER].reshape(1, -1)) ** 2).sum(dim=1)


def native(out: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    return out[SCORE].reshape(-1)


@hookimpl
def bench_register_scorers(register):
    register(Scorer("mse", (RECONSTRUCTION,), mse, "mean squared pixel error"))
    register(Scorer("l1", (RECONSTRUCTION,), l1, "mean absolute pixel error"))
    register(Scorer("max_error", (RECONSTRUCTION,), max_error, "mean of the worst 1% pixel errors"))
    register(Scorer("elbo", (RECONSTRUCTION, MU, LOGVAR), elbo, "negative ELBO (VAE)"))
    register(Scorer("logit", (LOGIT,), logit, "classifier logit for 'anomalous'"))
    register(Scorer("distance", (LATENT, CENTER), distance, "squared distance to a centre"))
    register(Scorer("native", (SCORE,), native, "the detector's own anomaly score"))
