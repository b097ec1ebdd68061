"""The detector contract, small enough for neural and classical detectors alike.

Like a scikit-learn estimator: construct with a :class:`RunContext`, ``fit`` on training
images, then ``outputs`` on test batches. A detector never receives test labels: the harness
keeps them and turns outputs into scores and metrics itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from bench.constraints import Allowed, check_constraints
from bench.images import ImageBatches, InputSpec


class DivergedError(RuntimeError):
    """Training produced a non-finite loss or scores; the job is recorded as diverged."""


class UndeclaredHyperparameterError(KeyError):
    """A detector read a hyperparameter its ``defaults`` do not declare: a bug in the plugin."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


class Hyperparameters(dict[str, Any]):
    """A detector's hyperparameters. Reading an undeclared key names the detector and the keys
    it has, instead of a bare ``KeyError: 'lr'`` from deep inside its training loop."""

    def __init__(self, owner: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.owner = owner

    def __missing__(self, key: str) -> Any:
        raise UndeclaredHyperparameterError(
            f"{self.owner} reads hyperparameter {key!r}, which its defaults do not declare; "
            f"declared: {sorted(self)}"
        )


EpochCallback = Callable[[int, int, float], None]


def _ignore_epoch(epoch: int, total: int, loss: float) -> None:
    return None


@dataclass
class RunContext:
    """Everything the harness decides for a detector: where, with which seed, how long."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    seed: int = 0
    hparams: Mapping[str, Any] = field(default_factory=dict)
    on_epoch: EpochCallback = _ignore_epoch
    deterministic: bool = True
    precision: str = "fp32"  # "bf16" enables autocast on CUDA (fast path)
    compile: bool = False

    def epoch_done(self, epoch: int, total: int, loss: float) -> None:
        """Report an epoch; a non-finite loss stops training as diverged."""
        if not math.isfinite(loss):
            raise DivergedError(f"loss became {loss} in epoch {epoch + 1}/{total}")
        self.on_epoch(epoch, total, loss)


class Detector:
    """Base class for detectors.

    Class attributes a detector sets:

    ``name``
        the registry name (``--detector``).
    ``produces``
        names of the tensors :meth:`outputs` returns, e.g. ``("reconstruction",)``; scorers
        declare which of these they need.
    ``default_scorer``
        the scorer used unless ``--scorer`` says otherwise.
    ``input_spec``
        the channels, size and value range the detector wants.
    ``defaults``
        hyperparameters and their defaults; the CLI and suite files override them by key. A
        subclass's ``defaults`` are merged over its parents', so it declares only what it adds
        or changes (a :class:`~bench.torch_detector.TorchDetector` keeps epochs, batch_size, lr).
    ``uses_labelled_anomalies``
        True to receive labelled anomalies from the training split when the task offers them.
    ``stochastic``
        True when results depend on the seed (random weights, shuffled batches, random trees);
        the conformance kit then checks that the detector really uses the seed it is given.
        ``TorchDetector`` sets it.
    ``hparam_constraints``
        what each hyperparameter may be (:mod:`bench.constraints`), merged over the parents'
        like ``defaults``; checked by the planner, so a bad value is a one-line error before any
        training. Checks that need more than one value go in :meth:`check_hparams`.
    ``hparams_unrecorded_at_default``
        hyperparameters added after results were stored: a row's config records them only when
        they differ from the default, so earlier rows keep their config hash (and ``--resume``
        still finds them).
    """

    name: ClassVar[str]
    produces: ClassVar[tuple[str, ...]]
    default_scorer: ClassVar[str]
    input_spec: ClassVar[InputSpec] = InputSpec()
    defaults: ClassVar[dict[str, Any]] = {}
    hparam_constraints: ClassVar[dict[str, Allowed]] = {}
    uses_labelled_anomalies: ClassVar[bool] = False
    stochastic: ClassVar[bool] = False
    hparams_unrecorded_at_default: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for table in ("defaults", "hparam_constraints"):
            if table in cls.__dict__:
                # Each parent's table is already merged with its own parents' at its creation.
                inherited: dict[str, Any] = {}
                for base in reversed(cls.__bases__):
                    inherited.update(getattr(base, table, {}))
                setattr(cls, table, {**inherited, **cls.__dict__[table]})

    @classmethod
    def check_hparams(cls, hparams: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` saying what is wrong with these values (merged with the
        defaults). Called by the planner, so a bad value fails before any training rather than
        in every job. The base class checks ``hparam_constraints``; an override adds what a
        constraint cannot say and calls ``super().check_hparams(hparams)``."""
        check_constraints(hparams, cls.hparam_constraints)

    def __init__(self, ctx: RunContext) -> None:
        unknown = set(ctx.hparams) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"{self.name} has no hyperparameter(s) {sorted(unknown)}; "
                f"known: {sorted(self.defaults)}"
            )
        self.ctx = ctx
        self.hparams = Hyperparameters(self.name, {**self.defaults, **ctx.hparams})

    def fit(self, train: ImageBatches) -> Detector:
        """Learn from the training images (normal, plus labelled anomalies if asked for)."""
        raise NotImplementedError

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-batch outputs named in ``produces``; ``x`` is already converted per the spec."""
        raise NotImplementedError

    def parameter_count(self) -> int:
        """Number of learned parameters, for the leaderboard; 0 when it does not apply."""
        return 0
