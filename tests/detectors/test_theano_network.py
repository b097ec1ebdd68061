"""``network = "theano"`` on dcae and deep_svdd: the layers of Ruff et al.'s Theano code (BatchNorm
with scale and shift, Glorot-uniform weights), first-layer filters from a dictionary learned on
the preprocessed training images, and weight decay where Lasagne put it."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from bench.errors import PlanError
from bench.runner import RunSpec, plan_jobs
from bench.testing import check_detector
from plugins.detectors import dictionary_init
from plugins.detectors.deep_svdd import DeepSVDD
from plugins.detectors.dictionary_init import dictionary_filters
from plugins.detectors.lenet import LEAKY_GAIN, lenet_autoencoder
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits

THEANO = {"network": "theano"}


def test_conforms_with_a_short_pretraining():
    check_detector(DeepSVDD, hparams={**THEANO, "epochs": 1, "pretrain_epochs": 1})


def test_learns_a_digit_class():
    result = run_on_digits("deep_svdd", task="0", **THEANO)
    assert result.metrics["auroc"] >= 0.95  # 1.000


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 12, 12)])
def test_batchnorm_learns_scale_and_shift_and_only_that_adds_parameters(shape):
    theano, pytorch = lenet_autoencoder(shape, "theano"), lenet_autoencoder(shape)
    norms = [m for m in theano.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert norms and all(m.affine for m in norms)
    extra = sum(p.numel() for p in theano.parameters()) - sum(
        p.numel() for p in pytorch.parameters()
    )
    assert extra == sum(2 * m.num_features for m in norms)
    x = torch.rand(3, *shape)
    assert theano(x).shape == x.shape


@pytest.mark.parametrize(
    ("shape", "module_gain"), [((1, 28, 28), LEAKY_GAIN), ((3, 32, 32), math.sqrt(2))]
)
def test_weights_start_glorot_uniform_with_lasagnes_gains(shape, module_gain):
    # MNIST's convolution modules set the leaky-ReLU gain; its reconstruction and every CIFAR-10
    # convolution take ConvLayer's default, GlorotUniform(gain="relu"): sqrt(2).
    torch.manual_seed(0)
    model = lenet_autoencoder(shape, "theano")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    for layer in [*convs, model.encoder.fc]:
        w = layer.weight
        receptive = w[0, 0].numel()
        fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
        gain = {model.encoder.fc: 1.0, convs[-1]: math.sqrt(2)}.get(layer, module_gain)
        bound = gain * math.sqrt(6 / (fan_in + fan_out))
        assert w.abs().max() <= bound
        assert w.abs().max() > 0.8 * bound  # filled to the bound, not a narrower default


def test_cifar10_autoencoder_normalises_the_reconstruction_not_the_code():
    # cifar10_architecture 3: dense code -> reshape -> leaky ReLU, and the last convolution goes
    # through BatchNorm before the sigmoid; the PyTorch autoencoder has it the other way round.
    theano, pytorch = lenet_autoencoder((3, 32, 32), "theano"), lenet_autoencoder((3, 32, 32))
    assert isinstance(theano.decoder[0], nn.Unflatten)
    assert isinstance(pytorch.decoder[0], nn.BatchNorm1d)
    *_, conv, norm, sigmoid = theano.decoder
    assert isinstance(conv, nn.ConvTranspose2d) and isinstance(sigmoid, nn.Sigmoid)
    assert isinstance(norm, nn.BatchNorm2d) and norm.num_features == 3 and norm.affine
    assert isinstance(pytorch.decoder[-2], nn.ConvTranspose2d)


def test_dictionary_atoms_are_unit_norm_follow_the_patches_and_are_seeded():
    # Patches of horizontal stripes: every atom is constant along its rows.
    rows = (torch.arange(12) % 3 == 0).float()
    images = rows.view(1, 1, 12, 1).expand(40, 1, 12, 12) * torch.rand(40, 1, 1, 1)
    torch.manual_seed(0)
    atoms = dictionary_filters(images, filters=4, size=5)
    assert atoms.shape == (4, 1, 5, 5)
    assert torch.allclose(atoms.flatten(1).norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.allclose(atoms, atoms.flip(-1), atol=1e-5)
    torch.manual_seed(0)
    assert torch.equal(dictionary_filters(images, filters=4, size=5), atoms)


def test_atoms_are_flipped_for_torchs_correlation(monkeypatch):
    # Lasagne convolves with an atom; torch correlates, so the same filter is the atom turned
    # by 180 degrees. A learner that hands back known, asymmetric atoms shows the turn.
    known = torch.arange(2 * 3 * 3, dtype=torch.float32).reshape(2, 9).numpy()

    class Learner:
        def __init__(self, **kwargs):
            pass

        def fit(self, patches):
            self.components_ = known
            return self

    monkeypatch.setattr(dictionary_init, "MiniBatchDictionaryLearning", Learner)
    atoms = dictionary_init.dictionary_filters(torch.rand(4, 1, 6, 6), filters=2, size=3)
    assert torch.equal(atoms, torch.from_numpy(known).reshape(2, 1, 3, 3).flip(-2, -1))


def test_patches_and_atoms_keep_the_theano_codes_channel_layout(monkeypatch):
    # Their code views N x C x H x W as N x H x W x C (a reshape, no transpose): on one 3 x 2 x 2
    # image holding 0..11, the four 1 x 1 patches are (0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11),
    # not a pixel's three channels (0, 4, 8) ...; squares keep the columns apart after each is
    # standardised. Atoms go back to C x 1 x 1 from their patch order.
    seen = {}
    known = torch.arange(6, dtype=torch.float32).reshape(2, 3).numpy()

    class Learner:
        def __init__(self, **kwargs):
            pass

        def fit(self, patches):
            seen["patches"], self.components_ = patches, known
            return self

    monkeypatch.setattr(dictionary_init, "MiniBatchDictionaryLearning", Learner)
    image = (torch.arange(12.0) ** 2).reshape(1, 3, 2, 2)
    atoms = dictionary_init.dictionary_filters(image, filters=2, size=1)
    expected = (torch.arange(12.0) ** 2).reshape(4, 3).double()
    expected = (expected - expected.mean(0)) / expected.std(0, unbiased=False)
    got = torch.from_numpy(seen["patches"])
    assert torch.allclose(got[got[:, 0].argsort()], expected)
    assert torch.equal(atoms, torch.from_numpy(known).reshape(2, 3, 1, 1))


def test_first_layer_starts_from_a_dictionary_not_from_glorot_draws():
    detector = fit_on_digits("dcae", epochs=1, lr=1e-12, **THEANO)  # lr 1e-12: barely moves
    norms = detector.model.encoder.features[0].weight.detach().flatten(1).norm(dim=1)
    # Unit-norm atoms; Glorot draws of 25 weights within +-0.23 have a norm near 0.66.
    assert torch.allclose(norms, torch.ones(8), atol=1e-4)


def test_weight_decay_covers_weights_and_only_the_autoencoders_batchnorm_scales():
    svdd = fit_on_digits("deep_svdd", epochs=1, pretrain_epochs=0, **THEANO)
    decayed, free = svdd._scheduler.optimizer.param_groups
    norms = [m for m in svdd.model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(any(m.weight is p for p in free["params"]) for m in norms)
    assert free["weight_decay"] == 0.0
    assert any(svdd.model.fc.weight is p for p in decayed["params"])
    dcae = fit_on_digits("dcae", epochs=1, **THEANO)
    decayed, free = dcae._scheduler.optimizer.param_groups
    norms = [m for m in dcae.model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(any(m.weight is p for p in decayed["params"]) for m in norms)
    assert all(any(m.bias is p for p in free["params"]) for m in norms)


def test_the_pytorch_network_keeps_one_parameter_group():
    detector = fit_on_digits("deep_svdd", epochs=1, pretrain_epochs=0)
    assert len(detector._scheduler.optimizer.param_groups) == 1


@pytest.mark.parametrize("detector", ["dcae", "deep_svdd"])
def test_unknown_network_is_refused_when_the_run_is_planned(detector):
    spec = RunSpec(detectors=[detector], dataset="digits",
                   detector_hparams={detector: {"network": "caffe"}})  # fmt: skip
    with pytest.raises(PlanError, match="network must be 'pytorch' or 'theano', got 'caffe'"):
        plan_jobs(spec)
