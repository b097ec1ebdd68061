"""Scorers turn a detector's named outputs into one anomaly score per image (higher = more
anomalous). Keeping them apart from detectors lets one model be compared under several scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

ScoreFn = Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]


class IncompatibleScorerError(ValueError):
    """The scorer needs outputs the detector does not produce."""


@dataclass(frozen=True)
class Scorer:
    """``fn(outputs, x)`` gets the detector's outputs for a batch and the converted inputs."""

    name: str
    needs: tuple[str, ...]
    fn: ScoreFn
    description: str = ""

    def check_compatible(self, detector_name: str, produced: tuple[str, ...]) -> None:
        missing = [n for n in self.needs if n not in produced]
        if missing:
            raise IncompatibleScorerError(
                f"scorer {self.name!r} needs outputs {list(self.needs)} but detector "
                f"{detector_name!r} produces {list(produced)} (missing {missing})"
            )

    def __call__(self, outputs: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return self.fn(outputs, x)
