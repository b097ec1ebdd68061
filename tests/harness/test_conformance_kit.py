"""The conformance kit: well-behaved detectors pass, and for each check a detector built to break
exactly that rule fails it with an AssertionError naming the rule (and fails no other rule)."""

from __future__ import annotations

import math
import unittest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench import testing
from bench.detector import Detector
from bench.scorer import Scorer
from bench.testing import check_detector, detector_checks, parametrize_with_checks
from bench.torch_detector import TorchDetector

# Passed to every check, so these tests need no scorer plugin.
NATIVE = Scorer("native", ("score",), lambda out, x: out["score"])


class MeanDistance(Detector):
    name = "mean_distance"
    produces = ("score",)
    default_scorer = "native"

    def fit(self, train):
        self.mean = train.all().mean(dim=0)
        return self

    def outputs(self, x):
        return {"score": (x - self.mean).pow(2).mean(dim=(1, 2, 3))}


class TinyAE(TorchDetector):
    """Declares only its own hyperparameter: epochs, batch_size and lr come from TorchDetector."""

    name = "tiny_ae"
    produces = ("score",)
    default_scorer = "native"
    defaults = {"width": 4}

    def build_model(self, input_shape):
        n, width = math.prod(input_shape), self.hparams["width"]
        return nn.Sequential(nn.Flatten(), nn.Linear(n, width), nn.ReLU(), nn.Linear(width, n))

    def training_loss(self, model, x, y):
        return F.mse_loss(model(x), x.flatten(1))

    def forward_outputs(self, model, x):
        return {"score": (model(x) - x.flatten(1)).pow(2).mean(dim=1)}


# --- one broken detector (or two) per rule ------------------------------------------------------
class NoName(MeanDistance):
    name = ""


class UndeclaredHyperparameter(MeanDistance):
    def outputs(self, x):
        return {"score": super().outputs(x)["score"] * self.hparams["scale"]}


class UnstorableDefaults(MeanDistance):
    defaults = {"transform": torch.sqrt}


class WrongOutputKey(MeanDistance):
    def outputs(self, x):
        return {"scores": super().outputs(x)["score"]}


class ScalarOutput(MeanDistance):
    def outputs(self, x):
        return {"score": super().outputs(x)["score"].mean()}


class NaNScores(MeanDistance):
    def outputs(self, x):
        return {"score": torch.full((len(x),), math.nan)}


class TwoScoresPerImage(MeanDistance):
    def outputs(self, x):
        return {"score": super().outputs(x)["score"].unsqueeze(1).expand(-1, 2)}


class OffTheCPU(MeanDistance):
    def outputs(self, x):
        return {"score": super().outputs(x)["score"].to("meta")}


class OwnEntropy(MeanDistance):
    """Seeds itself from the OS when built, not from ctx.seed: a refit repeats, a new one not."""

    def __init__(self, ctx):
        super().__init__(ctx)
        self.entropy = np.random.SeedSequence().entropy

    def fit(self, train):
        super().fit(train)
        jitter = np.random.default_rng(self.entropy).normal(0.0, 0.1, tuple(self.mean.shape))
        self.mean = self.mean + torch.from_numpy(jitter).float()
        return self


class HardCodedSeed(OwnEntropy):
    """Claims to be stochastic but always draws from seed 0."""

    stochastic = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.entropy = 0


class BatchStatistics(MeanDistance):
    def outputs(self, x):
        score = super().outputs(x)["score"]
        return {"score": score - score.mean()}


class BatchPosition(MeanDistance):
    def outputs(self, x):
        return {"score": super().outputs(x)["score"] + torch.arange(len(x))}


class ReturnsNone(MeanDistance):
    def fit(self, train):
        super().fit(train)


class WarmStart(TinyAE):
    """Keeps training the previous fit's network instead of starting afresh."""

    def build_model(self, input_shape):
        return self.model if self.model is not None else super().build_model(input_shape)


class PeeksAtLabels(MeanDistance):
    def fit(self, train):
        train.targets  # noqa: B018
        return super().fit(train)


class AssumesLabels(MeanDistance):
    """Asks for labelled anomalies but cannot fit in the one-class setting, which has none."""

    uses_labelled_anomalies = True

    def fit(self, train):
        self.anomalous_fraction = train.targets.float().mean()
        return super().fit(train)


BROKEN = [
    (NoName, "check_class_attributes"),
    (UndeclaredHyperparameter, "check_hyperparameter_defaults"),
    (UnstorableDefaults, "check_hyperparameter_defaults"),
    (WrongOutputKey, "check_outputs_declared"),
    (ScalarOutput, "check_outputs_declared"),
    (NaNScores, "check_scores_finite"),
    (TwoScoresPerImage, "check_scores_finite"),
    (OffTheCPU, "check_runs_on_cpu"),
    (OwnEntropy, "check_same_seed_same_scores"),
    (HardCodedSeed, "check_different_seeds_differ"),
    (BatchStatistics, "check_batch_independent"),
    (BatchPosition, "check_batch_independent"),
    (ReturnsNone, "check_fit_returns_self"),
    (WarmStart, "check_fit_idempotent"),
    (PeeksAtLabels, "check_labels_hidden"),
    (AssumesLabels, "check_labels_hidden"),
]


def test_every_check_has_a_detector_that_breaks_it():
    assert {rule for _, rule in BROKEN} == {check.__name__ for check in testing.CHECKS}


@pytest.mark.parametrize(("cls", "rule"), BROKEN, ids=[cls.__name__ for cls, _ in BROKEN])
def test_a_broken_rule_fails_its_check_and_no_other(cls, rule):
    failed = {}
    for name, check in detector_checks(cls, scorer=NATIVE):
        try:
            check(cls)
        except unittest.SkipTest:
            pass
        except AssertionError as exc:
            failed[name] = str(exc)
    assert rule in failed, f"{rule} passed {cls.__name__}"
    assert failed[rule].startswith(f"{rule}: "), failed[rule]
    # Checks resting on the broken rule fail too, but with its message, not their own.
    assert all(message.startswith(f"{rule}: ") for message in failed.values()), failed


def test_a_wrong_output_key_is_named_not_a_key_error():
    with pytest.raises(AssertionError, match=r"returned \['scores'\] but produces declares"):
        testing.check_scores_finite(WrongOutputKey, scorer=NATIVE)


@pytest.mark.parametrize("cls", [MeanDistance, TinyAE])
def test_well_behaved_detectors_pass_every_check(cls):
    check_detector(cls, scorer=NATIVE)


@pytest.mark.parametrize(
    ("cls", "how"), [(BatchPosition, "in reverse order"), (BatchStatistics, "alone")]
)
def test_batch_order_and_batch_size_are_both_checked(cls, how):
    with pytest.raises(AssertionError, match=f"scored {how} differs"):
        testing.check_batch_independent(cls, scorer=NATIVE)


def test_deterministic_detectors_skip_the_different_seeds_check():
    with pytest.raises(unittest.SkipTest, match="not stochastic"):
        testing.check_different_seeds_differ(MeanDistance, scorer=NATIVE)


def test_torch_detectors_get_the_base_defaults_merged():
    assert TinyAE.defaults == {**TorchDetector.defaults, "width": 4}
    assert WarmStart.defaults == TinyAE.defaults
    testing.check_hyperparameter_defaults(TinyAE, scorer=NATIVE, hparams={"lr": 1e-2})


def test_a_labelled_anomaly_detector_is_also_fitted_with_labels():
    seen = []

    class CountsLabels(MeanDistance):
        uses_labelled_anomalies = True

        def fit(self, train):
            seen.append(int(train.targets.sum()) if train.has_targets else None)
            return super().fit(train)

    testing.check_labels_hidden(CountsLabels, scorer=NATIVE)
    assert seen == [None, len(testing.synthetic_data().anomalies)]


def test_the_synthetic_data_holds_two_kinds_of_image():
    data = testing.synthetic_data(channels=3)
    assert data.train.shape == (16, 3, 8, 8) and data.train.dtype == torch.uint8
    assert data.test.shape == (8, 3, 8, 8)
    # Every checkerboard (the second half) is further from the mean normal image than any ramp.
    distance = (data.test.float() - data.train.float().mean(dim=0)).pow(2).mean(dim=(1, 2, 3))
    assert distance[4:].min() > distance[:4].max()


def test_only_the_named_plugin_loaded_the_kit_needs_the_scorer(monkeypatch):
    monkeypatch.setenv("BENCH_PLUGINS", "")  # no plugin at all, not even the built-in scorers
    check_detector(MeanDistance, scorer=NATIVE)
    with pytest.raises(AssertionError, match="pass the scorer"):
        check_detector(MeanDistance)


def test_without_a_scorer_the_default_one_comes_from_the_loaded_plugins():
    check_detector(MeanDistance)  # "native" is a built-in scorer


@parametrize_with_checks([MeanDistance, TinyAE], scorer=NATIVE)
def test_parametrize_with_checks(detector_cls, check):
    check(detector_cls)


def test_parametrize_with_checks_names_each_test_after_detector_and_check():
    mark = parametrize_with_checks([MeanDistance], scorer=NATIVE)
    ids = [param.id for param in mark.args[1]]
    assert ids[:2] == [
        "mean_distance-check_class_attributes",
        "mean_distance-check_hyperparameter_defaults",
    ]
    assert len(ids) == len(testing.CHECKS)
