"""Maximum-likelihood Dirichlet fit (Minka 2000's fixed point), as Golan & El-Yaniv 2018 fit one
to a classifier's softmax outputs. It needs only two statistics of the observations: their mean
``f`` and the mean of their logarithms."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import psi

TOLERANCE = 1e-9  # Golan's: stop when the update moves alpha by less than this (l2)
MAX_ITERATIONS = 1000
NEWTON_STEPS = 5  # Minka's inverse digamma converges in five Newton steps


def _trigamma(x: np.ndarray) -> np.ndarray:
    # torch's, not scipy's polygamma(1, x): scipy's took 1.8 s of geom's 2.9 s fit on a digits
    # class (~900 iterations over 72 x 72 rows); torch's is 10x faster per call (0.09 vs 0.86
    # ms) and agrees to 2e-9, which only steers Newton's steps, not the root they reach.
    return torch.special.polygamma(1, torch.from_numpy(x)).numpy()


def _inverse_digamma(y: np.ndarray) -> np.ndarray:
    # Minka's initial guess, then Newton's method on psi(x) = y.
    x = np.where(y >= -2.22, np.exp(y) + 0.5, -1.0 / (y - psi(1.0)))
    for _ in range(NEWTON_STEPS):
        x = x - (psi(x) - y) / _trigamma(x)
    return x


def fit_dirichlet(mean: np.ndarray, mean_log: np.ndarray) -> np.ndarray:
    """Concentration parameters of the Dirichlet most likely to have produced observations whose
    mean is ``mean`` and whose mean logarithm is ``mean_log``. Rows (shape ... x K) are fitted
    independently, all at once: geom fits 72 of them, and one at a time took seconds."""
    k = mean.shape[-1]
    # Minka's approximation of the total concentration starts the iteration.
    spread = np.sum(mean * np.log(mean), axis=-1) - np.sum(mean * mean_log, axis=-1)
    alpha = mean * ((k - 1) * -psi(1.0) / spread)[..., None]
    active = np.ones(alpha.shape[:-1], dtype=bool)  # rows still moving
    for _ in range(MAX_ITERATIONS):
        updated = _inverse_digamma(
            psi(alpha[active].sum(axis=-1, keepdims=True)) + mean_log[active]
        )
        moved = np.sqrt(np.sum((updated - alpha[active]) ** 2, axis=-1))
        alpha[active] = updated
        active[active] = moved >= TOLERANCE
        if not active.any():
            break
    return alpha
