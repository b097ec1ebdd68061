"""``python -m benchmarks.theano_network_ablation``: each ``--without`` part takes out exactly
that part of ``network = "theano"``, and only while the run lasts."""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from benchmarks.theano_network_ablation import without
from plugins.detectors.lenet import MNIST_SHAPE, lenet_autoencoder, lenet_encoder
from plugins.detectors.ruff2018 import RuffRecipe


def _norms(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def _seeded(network: str) -> nn.Module:
    torch.manual_seed(0)
    return lenet_autoencoder(MNIST_SHAPE, network)


def test_affine_leaves_batchnorm_without_scale_and_shift():
    with without(["affine"]):
        assert not any(m.affine for m in _norms(lenet_encoder(MNIST_SHAPE, "theano")))
        model = lenet_autoencoder(MNIST_SHAPE, "theano")
    assert all(m.affine for m in _norms(lenet_encoder(MNIST_SHAPE, "theano")))
    # the autoencoder's weight decay on BatchNorm scales skips the scales that are not there
    recipe = SimpleNamespace(hparams={"network": "theano"}, decays_norm_scale=True)
    weights, rest = RuffRecipe.parameter_groups(recipe, model)
    assert len(weights["params"]) == 6 and not rest["params"]  # 2 conv, 3 transposed, 1 linear


def test_glorot_leaves_torchs_initialisation():
    with without(["glorot"]):
        plain = _seeded("theano").state_dict()
    pytorch, theano = _seeded("pytorch").state_dict(), _seeded("theano").state_dict()
    convs = [k for k in pytorch if k.endswith("weight") and pytorch[k].dim() > 1]
    assert all(torch.equal(plain[k], pytorch[k]) for k in convs)
    assert not any(torch.equal(theano[k], pytorch[k]) for k in convs)


def test_dictionary_leaves_the_first_convolution_as_initialised():
    encoder = lenet_encoder(MNIST_SHAPE, "theano")
    before = encoder.features[0].weight.clone()
    recipe = SimpleNamespace(hparams={"network": "theano"})
    with without(["dictionary"]):
        RuffRecipe.init_first_layer(recipe, encoder)
    assert torch.equal(encoder.features[0].weight, before)


def test_decay_groups_puts_every_parameter_under_weight_decay():
    model = lenet_autoencoder(MNIST_SHAPE, "theano")
    recipe = SimpleNamespace(hparams={"network": "theano"}, decays_norm_scale=True)
    with without(["decay-groups"]):
        groups = list(RuffRecipe.parameter_groups(recipe, model))
    assert len(groups) == len(list(model.parameters()))
    assert all(isinstance(p, nn.Parameter) for p in groups)
    weights, rest = RuffRecipe.parameter_groups(recipe, model)
    assert rest["weight_decay"] == 0.0 and rest["params"]
