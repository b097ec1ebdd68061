"""geom: learns a digits class; the transformations against hand-computed images; the wide
ResNet's published sizes; the Dirichlet fit recovers known parameters and is fitted on the
training images."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.errors import PlanError
from bench.runner import RunSpec, plan_jobs
from bench.testing import check_detector
from plugins.detectors.dirichlet import fit_dirichlet
from plugins.detectors.geom import Geom
from plugins.detectors.geometric import apply_transforms, transform_table
from plugins.detectors.wide_resnet import WideResNet
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs

IMAGE = torch.arange(16.0).reshape(1, 1, 4, 4)


def test_conforms():
    check_detector(Geom, hparams={"epochs": 1})


@pytest.mark.parametrize("score", ["dirichlet", "logprob"])
def test_learns_a_digit_class_at_its_default_rotations(score):
    result = run_on_digits("geom", task="4", score=score)
    assert result.fitted_hparams["transforms"] == "rotate"
    assert result.metrics["auroc"] >= 0.9  # 0.983 dirichlet, 0.982 logprob


def test_learns_a_digit_class_under_the_papers_72_transformations():
    # An 8 turned half a turn is still an 8: its flips and shifts carry what rotations do not.
    result = run_on_digits("geom", task="8", transforms="flip_translate_rotate")
    assert result.metrics["auroc"] >= 0.9  # 0.961


def test_transform_sets_have_the_papers_sizes_in_golans_order():
    golan = transform_table("flip_translate_rotate")
    assert len(golan) == 72 and len(transform_table("translate_rotate")) == 36
    assert transform_table("rotate").tolist() == [[0, 0, 0, k] for k in range(4)]
    assert golan[:5].tolist() == [
        [0, 0, 0, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 2],
        [0, 0, 0, 3],
        [0, 0, -1, 0],
    ]


def test_shifts_fill_by_reflection_and_flips_and_turns_are_exact():
    def one(flip: int, dy: int, dx: int, turns: int) -> torch.Tensor:
        return apply_transforms(IMAGE, torch.tensor([[flip, dy, dx, turns]]), shift=1)[0, 0]

    rows = IMAGE[0, 0]
    # Down one row: content moves up, the last row reflects row 2.
    assert torch.equal(one(0, 1, 0, 0), rows[[1, 2, 3, 2]])
    assert torch.equal(one(0, -1, 0, 0), rows[[1, 0, 1, 2]])
    assert torch.equal(one(0, 0, 1, 0), rows[:, [1, 2, 3, 2]])
    assert torch.equal(one(1, 0, 0, 0), rows.flip(-1))
    assert torch.equal(one(0, 0, 0, 1), torch.rot90(rows, 1))
    # Flip first, then shift, then turn (Golan's order).
    assert torch.equal(one(1, 1, 0, 3), torch.rot90(rows.flip(-1)[[1, 2, 3, 2]], 3))


def test_each_image_of_a_batch_gets_its_own_transformation():
    table = transform_table("flip_translate_rotate")
    x = torch.rand(72, 2, 8, 8)
    batched = apply_transforms(x, table, shift=2)
    alone = torch.cat([apply_transforms(x[i : i + 1], table[i : i + 1], 2) for i in range(72)])
    assert torch.equal(batched, alone)
    same = apply_transforms(x[:1].expand(72, -1, -1, -1), table, shift=2)
    assert len(torch.unique(same.flatten(1), dim=0)) == 72  # 72 distinct images


@pytest.mark.parametrize(("depth", "width", "parameters"), [(16, 8, 11.0e6), (28, 10, 36.5e6)])
def test_wide_resnet_has_the_published_size(depth, width, parameters):
    # Zagoruyko & Komodakis 2016, Table: WRN-16-8 11.0M, WRN-28-10 36.5M on CIFAR-10.
    model = WideResNet(3, 10, depth, width)
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(parameters, rel=0.005)
    assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_dirichlet_fit_recovers_known_concentrations_row_by_row():
    alphas = np.array([[5.0, 1.0, 0.5, 2.0], [30.0, 30.0, 1.0, 0.2]])
    rng = np.random.default_rng(0)
    samples = np.stack([rng.dirichlet(alpha, size=20000) for alpha in alphas])
    fitted = fit_dirichlet(samples.mean(axis=1), np.log(samples).mean(axis=1))
    assert fitted == pytest.approx(alphas, rel=0.03)
    alone = fit_dirichlet(samples[1].mean(axis=0), np.log(samples[1]).mean(axis=0))
    assert alone == pytest.approx(fitted[1], rel=1e-9)


def test_dirichlets_are_fitted_on_the_training_images():
    detector = fit_on_digits("geom", epochs=2, transforms="rotate")
    with torch.no_grad():
        log_p = detector._log_probs(detector.model.eval(), training_inputs(detector)).double()
    expected = fit_dirichlet(log_p.exp().mean(0).numpy(), log_p.mean(0).numpy())
    assert torch.allclose(detector.alpha, torch.from_numpy(expected).float(), rtol=1e-4)


def test_unknown_score_and_impossible_depth_are_refused_before_training():
    for hparams, message in [({"score": "entropy"}, "score must be 'dirichlet' or 'logprob'"),
                             ({"depth": 12}, "depth must be 6n \\+ 4 with n >= 1")]:  # fmt: skip
        with pytest.raises(PlanError, match=message):
            plan_jobs(RunSpec(detectors=["geom"], detector_hparams={"geom": hparams}))
