"""Conformance kit for detector plugins, modelled on scikit-learn's ``estimator_checks``.

Each rule of the detector contract is a public function ``check_<rule>(detector_cls, *, scorer,
data, hparams)`` that raises ``AssertionError`` starting with its own name when the rule is
broken, so a plugin author can run one alone. All of them in one test::

    from bench.testing import check_detector

    def test_my_detector_conforms():
        check_detector(MyDetector, hparams={"epochs": 1})

or one pytest test per check, with ids like ``my_detector-check_scores_finite``::

    from bench.testing import parametrize_with_checks

    @parametrize_with_checks([MyDetector], hparams={"epochs": 1})
    def test_my_detector(detector_cls, check):
        check(detector_cls)

The kit makes its own tiny images (:func:`synthetic_data`, or pass ``data=``), fits and scores
on the CPU through the harness's public pieces, and uses the ``scorer`` it is given (a
:class:`~bench.scorer.Scorer`), so it works with only the author's plugin loaded; without one it
looks the detector's ``default_scorer`` up among the loaded plugins.

Every fit and scoring pass also enforces the rules the others rest on (labels hidden,
hyperparameters declared, outputs as declared and on the CPU, finite scores), so a detector
breaking one of those fails any check with the message of the rule it broke, never with a bare
``KeyError``. Test labels never reach a detector (``outputs`` sees images only), so a check on
them could not fail; what can leak is training labels, which :func:`check_labels_hidden` covers.

One module, over the usual size, because it is the one page a plugin author reads: half of it
is the checks' signatures and their failure messages.
"""

from __future__ import annotations

import contextlib
import functools
import json
import unittest
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.detector import Detector, RunContext, UndeclaredHyperparameterError
from bench.images import ImageBatches, InputSpec
from bench.plugins import registry
from bench.registry import UnknownNameError
from bench.scorer import IncompatibleScorerError, Scorer
from bench.seeding import seed_everything

CPU = torch.device("cpu")
SEED, OTHER_SEED = 0, 1
# CPU kernels pick their algorithm by batch size, so one image alone and the same image in a
# batch agree to rounding, not bit for bit: the largest gap over the built-ins at the kit's
# settings was 1.6e-7 (fcn_ae's reconstruction, values up to 0.5); atol leaves 60x for other CPUs.
RTOL, ATOL = 1e-4, 1e-5

KitHparams = Mapping[str, Any] | Callable[[type[Detector]], Mapping[str, Any]] | None


@dataclass(frozen=True)
class KitData:
    """uint8 N x C x H x W images, as a dataset hands them over."""

    train: torch.Tensor  # normal images only: the one-class setting
    test: torch.Tensor  # both kinds
    anomalies: torch.Tensor  # labelled anomalies, for detectors that set uses_labelled_anomalies


def synthetic_data(
    channels: int = 1, size: int = 8, n_train: int = 16, n_test: int = 8, seed: int = 0
) -> KitData:
    """Two kinds of seeded noisy images: normal ones are a left-to-right ramp, anomalous ones a
    checkerboard. 16 training images give two steps at batch size 8 (a lone trailing image is
    skipped by the training loop); the 8 test images hold 4 of each kind."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40.0, 200.0, size)[None, None, None, :]
    checkerboard = np.indices((size, size)).sum(axis=0) % 2 * 160.0 + 40.0

    def images(pattern: np.ndarray, n: int) -> torch.Tensor:
        pixels = pattern + rng.normal(0.0, 12.0, (n, channels, size, size))
        return torch.from_numpy(np.clip(pixels, 0, 255).astype(np.uint8))

    normal_test = n_test - n_test // 2
    test = torch.cat([images(ramp, normal_test), images(checkerboard, n_test // 2)])
    return KitData(images(ramp, n_train), test, images(checkerboard, max(1, n_train // 4)))


# --- fitting and scoring, enforcing the shared rules -------------------------------------------
@contextlib.contextmanager
def _detector_code(cls: type[Detector]) -> Iterator[None]:
    """Turns what a detector's own code raises for a broken shared rule into that rule's
    AssertionError."""
    try:
        yield
    except UndeclaredHyperparameterError as exc:
        raise AssertionError(f"check_hyperparameter_defaults: {exc}") from exc
    except PermissionError as exc:
        raise AssertionError(
            f"check_labels_hidden: {cls.name} read train.targets in a task without labels; a "
            "detector gets labels only when it sets uses_labelled_anomalies and the task has "
            f"labelled anomalies (test train.has_targets): {exc}"
        ) from exc


def _new(cls: type[Detector], hparams: Mapping[str, Any] | None, seed: int) -> Detector:
    ctx = RunContext(device=CPU, seed=seed, hparams=dict(hparams or {}))
    seed_everything(seed)  # as the harness does: before the detector (and its model) exists
    with _detector_code(cls):
        return cls(ctx)


def _fit(detector: Detector, data: KitData, seed: int, labelled: bool = False) -> Any:
    """Seed and fit as the harness does; returns what ``fit`` returned."""
    images, targets = data.train, None
    if labelled:
        images = torch.cat([data.train, data.anomalies])
        targets = torch.cat([torch.zeros(len(data.train)), torch.ones(len(data.anomalies))]).long()
    seed_everything(seed)
    train = ImageBatches(images, detector.input_spec, CPU, targets=targets, seed=seed)
    with _detector_code(type(detector)):
        return detector.fit(train)


def _fitted(
    cls: type[Detector], hparams: Mapping[str, Any] | None, data: KitData, seed: int
) -> Detector:
    detector = _new(cls, hparams, seed)
    _fit(detector, data, seed)
    return detector


def _outputs(detector: Detector, x: torch.Tensor) -> dict[str, torch.Tensor]:
    cls = type(detector)
    with _detector_code(cls):
        out = detector.outputs(x)
    rule = "check_outputs_declared"
    assert isinstance(out, Mapping), (
        f"{rule}: outputs() returned a {type(out).__name__}, not a dict"
    )
    assert set(out) == set(cls.produces), (
        f"{rule}: {cls.name}.outputs() returned {sorted(out)} but produces declares "
        f"{list(cls.produces)}"
    )
    for key, value in out.items():
        assert isinstance(value, torch.Tensor), (
            f"{rule}: output {key!r} is a {type(value).__name__}, not a torch.Tensor"
        )
        assert value.device.type == "cpu", (
            f"check_runs_on_cpu: output {key!r} is on {value.device}; a detector whose "
            "ctx.device is the CPU must return CPU tensors"
        )
        assert value.ndim >= 1 and value.shape[0] in (len(x), 1), (
            f"{rule}: output {key!r} has shape {tuple(value.shape)}; its first dimension must "
            f"be the batch size {len(x)} (or 1 for a value shared by the batch)"
        )
    return dict(out)


def _score_pass(
    detector: Detector, scorer: Scorer, images: torch.Tensor, seed: int, batch_size: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Scores and per-image outputs for ``images``, scored as the harness does: reseeded, in
    batches of ``batch_size``."""
    seed_everything(seed)
    test = ImageBatches(images, detector.input_spec, CPU, seed=seed)
    parts: list[tuple[torch.Tensor, dict[str, torch.Tensor]]] = []
    for x in test.batches(batch_size):
        out = _outputs(detector, x)
        scores = scorer(out, x)
        assert isinstance(scores, torch.Tensor), (
            f"check_scores_finite: scorer {scorer.name!r} returned a {type(scores).__name__}"
        )
        scores = scores.detach().float().reshape(-1)
        assert len(scores) == len(x), (
            f"check_scores_finite: scorer {scorer.name!r} gave {len(scores)} scores for a batch "
            f"of {len(x)} images, not one per image"
        )
        parts.append((scores, {k: v.expand(len(x), *v.shape[1:]) for k, v in out.items()}))
    scores = torch.cat([s for s, _ in parts])
    bad = int((~torch.isfinite(scores)).sum())
    assert bad == 0, f"check_scores_finite: {bad} of {len(images)} scores are not finite"
    return scores, {k: torch.cat([out[k] for _, out in parts]) for k in parts[0][1]}


def _scores(detector: Detector, scorer: Scorer, data: KitData, seed: int) -> np.ndarray:
    return _score_pass(detector, scorer, data.test, seed, len(data.test))[0].numpy()


def _scorer(cls: type[Detector], scorer: Scorer | str | None) -> Scorer:
    if not isinstance(scorer, Scorer):
        name = scorer or cls.default_scorer
        try:
            scorer = registry().get("scorers", name)
        except UnknownNameError as exc:
            raise AssertionError(
                f"{exc}: pass the scorer to the kit (scorer=Scorer(...)) to test {cls.name} "
                "without the plugin that registers it"
            ) from exc
    try:
        scorer.check_compatible(cls.name, cls.produces)
    except IncompatibleScorerError as exc:
        raise AssertionError(f"{exc}; pass a scorer of {list(cls.produces)}") from None
    return scorer


# --- the checks --------------------------------------------------------------------------------
def check_class_attributes(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """The class attributes the registry, CLI and scorers read are present and well formed."""
    rule, cls = "check_class_attributes", detector_cls
    for attr in ("name", "default_scorer"):
        value = getattr(cls, attr, None)
        assert isinstance(value, str) and value, (
            f"{rule}: {cls.__name__}.{attr} must be a non-empty str, not {value!r}"
        )
    produces = getattr(cls, "produces", None)
    assert (
        isinstance(produces, tuple)
        and produces
        and all(isinstance(n, str) and n for n in produces)
        and len(set(produces)) == len(produces)
    ), (
        f"{rule}: {cls.__name__}.produces must be a non-empty tuple of distinct names,"
        f" not {produces!r}"
    )
    assert isinstance(cls.input_spec, InputSpec), (
        f"{rule}: {cls.__name__}.input_spec must be a bench.images.InputSpec"
    )
    assert isinstance(cls.defaults, dict) and all(isinstance(k, str) for k in cls.defaults), (
        f"{rule}: {cls.__name__}.defaults must be a dict keyed by hyperparameter name"
    )
    for flag in ("uses_labelled_anomalies", "stochastic"):
        value = getattr(cls, flag)
        assert isinstance(value, bool), (
            f"{rule}: {cls.__name__}.{flag} must be a bool, not {value!r}"
        )


def check_hyperparameter_defaults(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """Every hyperparameter the detector reads has a default, the defaults pass the detector's
    own checks (``hparam_constraints``, ``check_hparams``), and they can be stored."""
    rule, cls = "check_hyperparameter_defaults", detector_cls
    try:
        json.dumps(cls.defaults)
    except TypeError as exc:  # stored and hashed with every result row
        raise AssertionError(f"{rule}: {cls.name}.defaults must be JSON values: {exc}") from exc
    try:
        cls.check_hparams(dict(cls.defaults))
    except ValueError as exc:
        raise AssertionError(f"{rule}: {cls.name}'s defaults fail its own checks: {exc}") from exc
    _new(cls, None, SEED)  # the defaults alone make a detector
    data = data or synthetic_data()
    _scores(_fitted(cls, hparams, data, SEED), _scorer(cls, scorer), data, SEED)


def check_outputs_declared(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """``outputs`` returns exactly the tensors ``produces`` names, one row per image (or one row
    shared by the batch), for a full batch and for a batch of one."""
    data = data or synthetic_data()
    detector = _fitted(detector_cls, hparams, data, SEED)
    x = detector.input_spec.convert(data.test)
    _outputs(detector, x)
    _outputs(detector, x[:1])


def check_scores_finite(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """The scorer turns the outputs into one finite score per test image."""
    data = data or synthetic_data()
    detector = _fitted(detector_cls, hparams, data, SEED)
    _scores(detector, _scorer(detector_cls, scorer), data, SEED)


def check_runs_on_cpu(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """Given ``ctx.device`` = CPU, the model and every output stay on the CPU."""
    data = data or synthetic_data()
    detector = _fitted(detector_cls, hparams, data, SEED)
    model = getattr(detector, "model", None)
    if isinstance(model, nn.Module):
        devices = {str(t.device) for t in [*model.parameters(), *model.buffers()]}
        assert devices <= {"cpu"}, f"check_runs_on_cpu: the model is on {sorted(devices)}"
    _scores(detector, _scorer(detector_cls, scorer), data, SEED)


def check_same_seed_same_scores(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """Two fresh detectors fitted with the same seed give bit-identical scores."""
    data, chosen = data or synthetic_data(), _scorer(detector_cls, scorer)
    first, second = (
        _scores(_fitted(detector_cls, hparams, data, SEED), chosen, data, SEED) for _ in range(2)
    )
    assert np.array_equal(first, second), (
        f"check_same_seed_same_scores: two fits with seed {SEED} gave different scores (largest "
        f"gap {np.abs(first - second).max():.3g}); draw random numbers only from ctx.seed or the "
        "global RNGs the harness seeds"
    )


def check_different_seeds_differ(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """A detector declaring ``stochastic = True`` really uses its seed: seeds 0 and 1 give
    different scores. Skipped (``unittest.SkipTest``) for deterministic detectors."""
    if not detector_cls.stochastic:
        raise unittest.SkipTest(f"{detector_cls.name} is not stochastic (stochastic = False)")
    data, chosen = data or synthetic_data(), _scorer(detector_cls, scorer)
    first, second = (
        _scores(_fitted(detector_cls, hparams, data, seed), chosen, data, seed)
        for seed in (SEED, OTHER_SEED)
    )
    assert not np.array_equal(first, second), (
        f"check_different_seeds_differ: {detector_cls.name} sets stochastic = True but seeds "
        f"{SEED} and {OTHER_SEED} gave identical scores: it ignores ctx.seed"
    )


def check_batch_independent(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """An image's outputs and score do not depend on the batch it is in: scored alone, in one
    batch, or in a batch in reverse order, within float rounding."""
    data, chosen = data or synthetic_data(), _scorer(detector_cls, scorer)
    detector = _fitted(detector_cls, hparams, data, SEED)

    def per_image(images: torch.Tensor, batch_size: int) -> dict[str, torch.Tensor]:
        scores, outputs = _score_pass(detector, chosen, images, SEED, batch_size)
        return {**{f"output {k!r}": v for k, v in outputs.items()}, "the score": scores}

    n = len(data.test)
    batched = per_image(data.test, n)
    reordered = {k: v.flip(0) for k, v in per_image(data.test.flip(0), n).items()}
    for how, other in (("in reverse order", reordered), ("alone", per_image(data.test, 1))):
        for what, value in batched.items():
            gap = (value - other[what]).abs().max().item()
            assert torch.allclose(value, other[what], rtol=RTOL, atol=ATOL), (
                f"check_batch_independent: {what} of images scored {how} differs from the same "
                f"images in one batch by up to {gap:.3g}; use no statistics across the batch "
                "(e.g. keep BatchNorm in eval mode)"
            )


def check_fit_returns_self(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """``fit`` returns the detector itself, as a scikit-learn estimator does."""
    detector = _new(detector_cls, hparams, SEED)
    returned = _fit(detector, data or synthetic_data(), SEED)
    assert returned is detector, (
        f"check_fit_returns_self: {detector_cls.name}.fit returned {returned!r}, not self"
    )


def check_fit_idempotent(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """Fitting a detector again from the same seed on the same data gives the same scores: a
    fit starts afresh and keeps nothing from the previous one."""
    data, chosen = data or synthetic_data(), _scorer(detector_cls, scorer)
    detector = _fitted(detector_cls, hparams, data, SEED)
    first = _scores(detector, chosen, data, SEED)
    _fit(detector, data, SEED)
    again = _scores(detector, chosen, data, SEED)
    assert np.array_equal(first, again), (
        f"check_fit_idempotent: fitting {detector_cls.name} a second time changed its scores "
        f"(largest gap {np.abs(first - again).max():.3g}); fit must not build on a previous fit"
    )


def check_labels_hidden(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: Mapping[str, Any] | None = None,
) -> None:
    """A detector fits without labels (the one-class setting: reading ``train.targets`` there
    fails); one that sets ``uses_labelled_anomalies`` also fits when given labelled anomalies."""
    data, chosen = data or synthetic_data(), _scorer(detector_cls, scorer)
    _scores(_fitted(detector_cls, hparams, data, SEED), chosen, data, SEED)
    if detector_cls.uses_labelled_anomalies:
        detector = _new(detector_cls, hparams, SEED)
        _fit(detector, data, SEED, labelled=True)
        _scores(detector, chosen, data, SEED)


CHECKS = (
    check_class_attributes,
    check_hyperparameter_defaults,
    check_outputs_declared,
    check_scores_finite,
    check_runs_on_cpu,
    check_same_seed_same_scores,
    check_different_seeds_differ,
    check_batch_independent,
    check_fit_returns_self,
    check_fit_idempotent,
    check_labels_hidden,
)


# --- running them ------------------------------------------------------------------------------
def detector_checks(
    detector_cls: type[Detector],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: KitHparams = None,
) -> Iterator[tuple[str, Callable[[type[Detector]], None]]]:
    """``(name, check)`` for every check, bound to these arguments; call ``check(detector_cls)``.
    ``hparams`` may be a function of the class, to give each detector its own."""
    values = hparams(detector_cls) if callable(hparams) else hparams
    for check in CHECKS:
        yield check.__name__, functools.partial(check, scorer=scorer, data=data, hparams=values)


def check_detector(
    detector_cls: type[Detector],
    hparams: KitHparams = None,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
) -> None:
    """Run every check, stopping at the first broken rule; checks that do not apply are
    skipped."""
    for _, check in detector_checks(detector_cls, scorer=scorer, data=data, hparams=hparams):
        with contextlib.suppress(unittest.SkipTest):
            check(detector_cls)


def parametrize_with_checks(
    detector_classes: Iterable[type[Detector]],
    *,
    scorer: Scorer | str | None = None,
    data: KitData | None = None,
    hparams: KitHparams = None,
) -> Any:
    """A ``pytest.mark.parametrize`` of ``(detector_cls, check)`` over every class and check,
    with ids ``<detector name>-<check name>``; the test body is ``check(detector_cls)``."""
    import pytest  # only test suites call this: the harness itself does not need pytest

    params = [
        pytest.param(cls, check, id=f"{cls.name}-{name}")
        for cls in detector_classes
        for name, check in detector_checks(cls, scorer=scorer, data=data, hparams=hparams)
    ]
    return pytest.mark.parametrize(("detector_cls", "check"), params)
