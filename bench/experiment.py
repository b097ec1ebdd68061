"""What one experiment is, defined once.

:class:`Settings` holds the run-wide choices that change a result (data caps, precision,
determinism, ...). Each field is declared here with its type, default, help text and check, and
everything else derives from that declaration: the suite file's ``[suite]`` keys, the
``bench run`` options (:func:`bench.commands.settings.settings_options`), validation, the stored
config and its hash, and the :class:`~bench.detector.RunContext` a detector sees. Adding a
setting means adding one field here.

:class:`Experiment` is one trained model's definition (detector, dataset, task,
hyperparameters, settings); a stored row is an experiment scored by one scorer, identified by
:meth:`Experiment.config_hash` and the seed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.errors import PlanError

Check = Callable[[Any], str | None]  # returns what is wrong, or None


def _fraction(value: float) -> str | None:
    return None if 0.0 <= value < 1.0 else "must be a fraction in [0, 1)"


def _positive(value: int | None) -> str | None:
    return None if value is None or value >= 1 else "must be at least 1"


def _one_of(*choices: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def setting(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    check: Check | None = None,
    recorded_at_default: bool = True,
) -> Any:
    """Declare a field of :class:`Settings`. ``flag`` is its ``bench run`` option (default:
    ``--name-with-dashes``). Settings added after results were first stored set
    ``recorded_at_default=False``: they enter the stored config only when not at their default,
    so the config hashes of earlier rows stay valid."""
    return field(
        default=default,
        metadata={
            "help": help,
            "flag": flag,
            "check": check,
            "recorded_at_default": recorded_at_default,
        },
    )


@dataclass(frozen=True)
class Settings:
    """Run-wide experiment settings; see the module docstring."""

    labelled_fraction: float = setting(
        0.0,
        "Fraction of labelled anomalies from the training split, relative to the normal "
        "training images (ADBench's semi-supervised setting; default 0).",
        flag="--labelled-anomalies",
        check=_fraction,
    )
    max_train: int | None = setting(
        None,
        "Reduced run: at most N normal training images per task (a fixed subsample).",
        check=_positive,
    )
    max_test: int | None = setting(
        None, "Reduced run: at most N test images (a fixed subsample).", check=_positive
    )
    deterministic: bool = setting(
        True, "Seeded deterministic algorithms (the default; leaderboards use it)."
    )
    precision: str = setting(
        "fp32", "fp32, or bf16 autocast on CUDA (fast path).", check=_one_of("fp32", "bf16")
    )
    compile: bool = setting(False, "torch.compile the models (fast path).")
    input_size: int | None = setting(
        None,
        "Force every detector's input to N x N (bilinear resize), e.g. the course's 64; default: "
        "the dataset's own size, enlarged only as far as each detector needs.",
        check=_positive,
        recorded_at_default=False,
    )
    input_channels: int | None = setting(
        None,
        "Force every detector's input to N channels (1: grey mean, 3: replicated grey); "
        "default: the dataset's own.",
        check=_positive,
        recorded_at_default=False,
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            problem = type_problem(value, _hints()[f.name])
            check = f.metadata["check"]
            if problem is None and check is not None:
                problem = check(value)
            if problem is not None:
                raise PlanError(f"setting {f.name} = {value!r} {problem}")

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], where: str = "settings") -> Settings:
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise PlanError(f"{where}: unknown setting(s) {unknown}; known: {cls.names()}")
        return cls(**values)

    def updated(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (None values ignored), validated."""
        return self.from_mapping(
            {**dataclasses.asdict(self), **{k: v for k, v in changes.items() if v is not None}}
        )

    def recorded(self) -> dict[str, Any]:
        """The settings as stored with every row and hashed into its config."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.metadata["recorded_at_default"] or value != f.default:
                out[f.name] = value
        return out


@functools.cache
def _hints() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def hint_kinds(hint: Any) -> tuple[Any, ...]:
    """The types a field annotated ``hint`` takes: ``int | None`` -> (int, NoneType)."""
    return typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)


def type_problem(value: Any, hint: Any) -> str | None:
    """What is wrong with ``value`` for a field annotated ``hint`` (None: nothing)."""
    options = hint_kinds(hint)
    if value is None:
        return None if type(None) in options else "must not be empty"
    for kind in options:
        if kind is bool and isinstance(value, bool):
            return None
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return None
        if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
            return None if math.isfinite(value) else "must be a finite number"
        if kind is str and isinstance(value, str):
            return None
    names = " or ".join("none" if k is type(None) else k.__name__ for k in options)
    return f"must be {names}, not {type(value).__name__}"


def canonical_json(value: Any) -> str:
    """The JSON that configs are stored and hashed as. NaN and infinities are refused: they are
    not JSON and would make a stored config unreadable."""
    try:
        return json.dumps(value, sort_keys=True, default=str, allow_nan=False)
    except ValueError:
        raise PlanError(f"NaN or infinity is not a valid setting: {value}") from None


@dataclass(frozen=True)
class Experiment:
    """One trained model's definition; the seed, device and data location are not part of it."""

    detector: str
    dataset: str
    task: str
    hparams: Mapping[str, Any] = field(default_factory=dict, hash=False)
    dataset_options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    settings: Settings = field(default_factory=Settings)
    # C x H x W the detector is fed, as the planner resolved it from the dataset's shape, the
    # detector's InputSpec and the input_size/input_channels settings; None: resolve at fit.
    input_shape: tuple[int, int, int] | None = None

    def config(self, scorer: str) -> dict[str, Any]:
        """The stored config of this experiment scored by ``scorer`` (flat, as schema-1 rows
        were, plus the effective input shape: the same settings on another dataset or detector
        version can feed a different shape, which is a different experiment)."""
        shape = {} if self.input_shape is None else {"input_shape": list(self.input_shape)}
        return {
            "detector": self.detector,
            "scorer": scorer,
            "dataset": self.dataset,
            "dataset_options": dict(self.dataset_options),
            "task": self.task,
            "hparams": dict(self.hparams),
            **self.settings.recorded(),
            **shape,
        }

    def config_hash(self, scorer: str) -> str:
        return hashlib.sha256(canonical_json(self.config(scorer)).encode()).hexdigest()[:16]
