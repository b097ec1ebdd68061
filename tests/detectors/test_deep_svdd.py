"""deep_svdd: learns a digits class at its default settings; the authors' networks (no bias
terms, no BatchNorm shift, their parameter counts); the centre is the eps-adjusted mean of the
initial representations of the preprocessed images; the learning-rate drop and both
objectives."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.errors import PlanError
from bench.jobs import run_job
from bench.runner import RunSpec, plan_jobs
from bench.store import ResultStore, read_results
from bench.testing import check_detector
from plugins.detectors.dcae import AUTOENCODER_SETTINGS, DCAE
from plugins.detectors.deep_svdd import DeepSVDD
from plugins.detectors.lenet import lenet_autoencoder
from plugins.detectors.ruff2018 import OTHER_SHAPES
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs

UNTRAINED = {"epochs": 0, "pretrain_epochs": 0}
OTHER = DeepSVDD.shape_settings[OTHER_SHAPES]


def test_conforms_with_a_short_pretraining():
    check_detector(DeepSVDD, hparams={"epochs": 1, "pretrain_epochs": 1})


@pytest.mark.parametrize("objective", ["one-class", "soft-boundary"])
def test_learns_a_digit_class_at_its_default_settings(objective):
    result = run_on_digits("deep_svdd", task="0", objective=objective)
    assert result.metrics["auroc"] >= 0.95  # 1.000 both


@pytest.mark.parametrize(
    ("shape", "rep_dim", "encoder_params", "total_params"),
    [
        # conv 1*8*25 + 8*4*25, fc 4*7*7*32; decoder deconvs 2*4*25 + 4*8*25 + 8*1*25
        ((1, 28, 28), 32, 200 + 800 + 6272, 7272 + 200 + 800 + 200),
        # conv 3*32*25 + 32*64*25 + 64*128*25, fc 128*4*4*128; decoder 8*128*25 + the mirror
        ((3, 32, 32), 128, 2400 + 51200 + 204800 + 262144, 520544 + 25600 + 204800 + 51200 + 2400),
        # digits, enlarged from 8 x 8: fc 4*3*3*32; decoder linear 32*36, then the deconvs
        ((1, 12, 12), 32, 200 + 800 + 4 * 3 * 3 * 32, 2152 + 1152 + 800 + 200),
    ],
)
def test_the_authors_networks_by_input_shape(shape, rep_dim, encoder_params, total_params):
    model = lenet_autoencoder(shape)
    x = torch.rand(3, *shape)
    assert model.encoder(x).shape == (3, rep_dim) and model(x).shape == x.shape
    assert sum(p.numel() for p in model.encoder.parameters()) == encoder_params
    assert sum(p.numel() for p in model.parameters()) == total_params
    assert not [name for name, _ in model.named_parameters() if "bias" in name]
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert norms and not any(m.affine for m in norms)


@pytest.mark.parametrize("raw", [(1, 4, 4), (1, 8, 8), (1, 11, 11), (1, 12, 12), (3, 13, 13)])
@pytest.mark.parametrize("detector", [DeepSVDD, DCAE])
def test_small_images_are_enlarged_until_the_representation_is_full_rank(detector, raw):
    shape = detector.input_spec.resolve(raw)
    assert shape == (raw[0], max(raw[1], 12), max(raw[2], 12))
    encoder = lenet_autoencoder(shape).encoder
    assert encoder.fc.in_features >= encoder.fc.out_features  # 4 x 3 x 3 = 36 >= 32 at 12
    with torch.no_grad():  # random images span all 32 dimensions of the representation
        assert torch.linalg.matrix_rank(encoder.eval()(torch.rand(64, *shape))) == 32


def test_center_is_the_mean_initial_representation_of_preprocessed_images():
    # Untrained, the model is still the initial network; a tiny eps leaves the mean as it is.
    detector = fit_on_digits("deep_svdd", eps=1e-9, **UNTRAINED)
    with torch.no_grad():
        inputs = detector.preprocess(training_inputs(detector))
        mean = detector.model.eval()(inputs).mean(dim=0)
    assert torch.allclose(detector.center, mean, rtol=1e-5, atol=1e-9)


def test_eps_pushes_coordinates_away_from_zero_keeping_their_sign():
    detector = fit_on_digits("deep_svdd", eps=1e3, **UNTRAINED)
    with torch.no_grad():
        mean = detector.model.eval()(detector.preprocess(training_inputs(detector))).mean(dim=0)
    assert torch.equal(detector.center, torch.where(mean < 0, -1e3, 1e3))


def test_learning_rate_drops_tenfold_after_the_milestone():
    detector = fit_on_digits("deep_svdd", epochs=3, lr=1e-4, lr_milestone=2, pretrain_epochs=0)
    assert detector._scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(1e-5)
    kept = fit_on_digits("deep_svdd", epochs=3, lr=1e-4, lr_milestone=5, pretrain_epochs=0)
    assert kept._scheduler.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_unset_settings_take_the_other_shapes_values_on_shapes_the_authors_did_not_run():
    detector = fit_on_digits("deep_svdd", epochs=0, pretrain_epochs=1)
    resolved = {k: detector.hparams[k] for k in OTHER}
    assert resolved == {**OTHER, "pretrain_epochs": 1, "epochs": 0}
    assert fit_on_digits("dcae", epochs=1).hparams["lr"] == AUTOENCODER_SETTINGS[OTHER_SHAPES]["lr"]


def test_rows_store_the_settings_it_filled_in_beside_the_planned_nones(tmp_path):
    spec = RunSpec(detectors=["deep_svdd"], dataset="digits", classes=["0"],
                   detector_hparams={"deep_svdd": {"epochs": 1, "pretrain_epochs": 1}})  # fmt: skip
    (job,) = plan_jobs(spec)
    (row,) = run_job(job)
    assert row.status == "ok", row.error
    assert row.config["hparams"]["batch_size"] is None  # the plan leaves it to the input shape
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(row)
    (stored,) = read_results(tmp_path / "s.sqlite")["fitted_hparams"]
    # network is left out of the plan at its default (added after rows were stored), not here.
    filled = {**OTHER, "pretrain_epochs": 1, "epochs": 1, "network": "pytorch"}
    assert stored == {**row.config["hparams"], **filled}


def test_soft_boundary_radius_leaves_about_nu_of_the_training_images_outside():
    detector = fit_on_digits("deep_svdd", objective="soft-boundary", nu=0.2, epochs=20,
                             pretrain_epochs=10, batch_size=200)  # fmt: skip
    assert detector.radius > 0
    # R is the (1 - nu)-quantile of a training batch's distances in train mode (BatchNorm batch
    # statistics); the 119 training images are one batch, so the same mode reproduces it up to
    # the last step's update (0.15 outside for nu = 0.2).
    with torch.no_grad():
        latent = detector.model.train()(detector.preprocess(training_inputs(detector)))
    outside = ((latent - detector.center).pow(2).sum(dim=1) > detector.radius**2).float().mean()
    assert 0.1 <= outside <= 0.3


def test_soft_boundary_radius_stays_zero_during_warm_up():
    detector = fit_on_digits("deep_svdd", objective="soft-boundary", epochs=10, pretrain_epochs=0)
    assert detector.radius == 0


def test_unknown_objective_is_refused_before_training():
    message = "objective must be 'one-class' or 'soft-boundary', got 'two-class'"
    with pytest.raises(PlanError, match=message):
        plan_jobs(
            RunSpec(
                detectors=["deep_svdd"], detector_hparams={"deep_svdd": {"objective": "two-class"}}
            )
        )
