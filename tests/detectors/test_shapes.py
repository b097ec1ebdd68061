"""Every reference model builds from the input shape the policy resolves, trains, and returns
outputs of that shape; at the course's 3 x 64 x 64 and width 1 it is the course's model."""

from __future__ import annotations

import pytest
import torch

from bench.detector import RunContext
from bench.images import ImageBatches
from bench.plugins import registry

REFERENCE = ["fcn_ae", "conv_ae", "vae", "resnet_ae", "ensemble_ae", "aux_decoder", "ae_classifier"]
RAW_SHAPES = [(1, 8, 8), (1, 16, 16), (1, 28, 28), (3, 32, 32), (3, 64, 64)]
# What each model's strides need: none (fully connected), 2 ** 3, or 2 ** 4 (ResNet-type).
MULTIPLE = {"fcn_ae": 1, "conv_ae": 8, "vae": 8}

# The course models' parameter counts at 3 x 64 x 64 and width 1.0, computed from the models
# as they were before they became shape-generic (commit 80dbbaf): they must never change.
COURSE_PARAMETERS = {
    "fcn_ae": 26_526_602,
    "conv_ae": 47_355,
    "vae": 65_835,
    "resnet_ae": 1_590_627,
    "ensemble_ae": 16_094_531,
    "aux_decoder": 2_321_510,
    "ae_classifier": 2_641_412,
}


def _detector(name: str, **hparams):
    return registry().get("detectors", name)(RunContext(hparams=hparams))


def _expected(name: str, raw: tuple[int, int, int]) -> tuple[int, int, int]:
    multiple = MULTIPLE.get(name, 16)
    c, h, w = raw
    return (c, -(-h // multiple) * multiple, -(-w // multiple) * multiple)


@pytest.mark.parametrize("raw", RAW_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", REFERENCE)
def test_builds_trains_a_step_and_outputs_the_input_shape(name, raw):
    detector = _detector(name, epochs=1, batch_size=4)
    images = torch.randint(0, 256, (4, *raw), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
    train = ImageBatches(images, detector.input_spec)
    shape = _expected(name, raw)
    assert train.shape == shape
    losses = []
    detector.ctx.on_epoch = lambda epoch, total, loss: losses.append(loss)
    detector.fit(train)
    assert len(losses) == 1  # one epoch of one step, with a finite loss
    x = train.all()
    out = detector.outputs(x)
    assert out["reconstruction"].shape == (4, *shape)
    if name == "vae":
        assert out["mu"].shape == out["logvar"].shape == (4, 48, shape[1] // 8, shape[2] // 8)
    if name == "ae_classifier":
        assert out["logit"].shape == (4,)


@pytest.mark.parametrize("name", REFERENCE)
def test_course_parameter_counts_at_3x64x64_and_full_width(name):
    hparams = {"width": 1.0} if "width" in _detector(name).defaults else {}
    model = _detector(name, **hparams).build_model((3, 64, 64))
    assert sum(p.numel() for p in model.parameters()) == COURSE_PARAMETERS[name]
