"""Conformance kit for detector plugins, in the spirit of scikit-learn's ``check_estimator``.

A plugin author calls it from their own test suite::

    from bench.testing import check_detector

    def test_my_detector_conforms():
        check_detector(MyDetector, hparams={"epochs": 1})

It runs the detector through the harness's own fit-and-score path on a tiny slice of the
bundled ``digits`` data, on CPU, and raises ``AssertionError`` naming the first broken rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from bench.detector import Detector
from bench.experiment import Experiment
from bench.images import ImageBatches, InputSpec
from bench.plugins import registry
from bench.scorer import Scorer
from bench.scoring import score
from bench.tasks import Task, build_task
from bench.training import train


def _tiny_task(n_train: int, n_test: int) -> Task:
    from plugins.datasets.digits import Digits  # the embedded dataset; no download

    splits = Digits(data_dir=".").load()
    task = build_task(splits, "digits", True, "0")
    rng = np.random.default_rng(0)
    test_idx = np.sort(rng.choice(len(task.test_images), size=n_test, replace=False))
    labels = task.test_labels[test_idx]
    assert labels.min() == 0 and labels.max() == 1, "tiny test slice must hold both classes"
    return Task("0", task.train_images[:n_train], None, task.test_images[test_idx], labels)


def _run(cls: type[Detector], scorer: Scorer, task: Task, hparams: dict[str, Any], seed: int):
    experiment = Experiment(cls.name, "digits", task.name, hparams)
    cpu = torch.device("cpu")
    detector = train(cls, experiment, task, seed, cpu).detector
    scored = score(detector, [scorer], task, seed, True, cpu)
    if scorer.name in scored.errors:
        raise scored.errors[scorer.name]
    return detector, scored.scores[scorer.name]


def check_detector(
    cls: type[Detector],
    hparams: dict[str, Any] | None = None,
    scorer: str | None = None,
    n_train: int = 48,
    n_test: int = 40,
) -> None:
    """Check that ``cls`` honours the detector contract; see the module docstring."""
    for attr in ("name", "produces", "default_scorer"):
        assert hasattr(cls, attr), f"{cls.__name__} must set the class attribute {attr!r}"
    assert isinstance(cls.name, str) and cls.name, "name must be a non-empty string"
    assert isinstance(cls.produces, tuple) and cls.produces, "produces must be a non-empty tuple"
    assert isinstance(cls.input_spec, InputSpec), "input_spec must be a bench.images.InputSpec"
    assert isinstance(cls.defaults, dict), "defaults must be a dict of hyperparameters"
    chosen: Scorer = registry().get("scorers", scorer or cls.default_scorer)
    chosen.check_compatible(cls.name, cls.produces)
    params = {**cls.defaults, **(hparams or {})}

    task = _tiny_task(n_train, n_test)
    detector, scores = _run(cls, chosen, task, params, seed=0)
    assert scores is not None and scores.shape == (n_test,), (
        f"expected {n_test} scores, got {None if scores is None else scores.shape}"
    )
    assert np.isfinite(scores).all(), "scores must be finite"
    assert isinstance(detector.parameter_count(), int) and detector.parameter_count() >= 0

    batch = ImageBatches(task.test_images[:5], cls.input_spec).all()
    outputs = detector.outputs(batch)
    missing = set(cls.produces) - set(outputs)
    assert not missing, f"outputs() lacks declared outputs {sorted(missing)}"
    for name in cls.produces:
        value = outputs[name]
        assert isinstance(value, torch.Tensor), f"output {name!r} must be a tensor"
        assert value.device.type == "cpu", f"output {name!r} is on {value.device}, not the CPU"
        assert value.shape[0] in (5, 1), f"output {name!r} has batch size {value.shape[0]}, not 5"
        assert torch.isfinite(value).all(), f"output {name!r} holds non-finite values"

    _, again = _run(cls, chosen, task, params, seed=0)
    assert np.array_equal(scores, again), "same seed must give identical scores"

    shuffled = Task(task.name, task.train_images, None, task.test_images,
                    np.random.default_rng(1).permutation(task.test_labels))  # fmt: skip
    _, relabelled = _run(cls, chosen, shuffled, params, seed=0)
    assert np.array_equal(scores, relabelled), "scores must not depend on test labels"
