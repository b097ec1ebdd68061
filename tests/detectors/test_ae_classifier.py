"""ae_classifier: learns a digits class from pseudo-anomalies, and from labelled ones too."""

from __future__ import annotations

import torch

from bench.detector import RunContext
from plugins.detectors.ae_classifier import (
    PATCH_SIDE,
    AEClassifier,
    AutoencoderClassifier,
    UpDecoder,
    cutpaste,
)
from tests.detectors.digits_helpers import run_on_digits, training_inputs

RANGE = (-1.0, 1.0)


def _digits(n: int = 8) -> torch.Tensor:
    return training_inputs(AEClassifier(RunContext()))[:n]


def _pseudo(x: torch.Tensor, seed: int, noise: float = 0.1) -> torch.Tensor:
    return cutpaste(x, torch.Generator().manual_seed(seed), noise, RANGE)


def test_learns_a_digit_class_from_pseudo_anomalies():
    result = run_on_digits("ae_classifier", task="0")
    assert result.metrics["auroc"] >= 0.8


def test_runs_semi_supervised_with_labelled_anomalies():
    assert AEClassifier.uses_labelled_anomalies
    result = run_on_digits("ae_classifier", task="0", settings={"labelled_fraction": 0.1})
    assert result.metrics["auroc"] >= 0.8


def test_cutpaste_changes_one_patch_per_image_and_is_seeded():
    x = _digits()
    pseudo = _pseudo(x, seed=0)
    assert torch.equal(pseudo, _pseudo(x, seed=0))
    assert not torch.equal(pseudo, _pseudo(x, seed=1))
    assert pseudo.abs().max() <= 1.0
    side = PATCH_SIDE[1] * x.shape[-1]
    for changed in (pseudo != x).any(dim=1):
        rows, cols = changed.any(dim=1).nonzero(), changed.any(dim=0).nonzero()
        assert len(rows) > 0, "every image gets a patch"
        assert rows.max() - rows.min() < side and cols.max() - cols.min() < side


def test_cutpaste_without_noise_pastes_a_rectangle_cut_from_the_other_image():
    x = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    pseudo = _pseudo(x, seed=3, noise=0.0)
    for i, donor in ((0, 1), (1, 0)):
        changed = (pseudo[i] != x[i]).any(dim=0)
        rows, cols = changed.any(dim=1).nonzero(), changed.any(dim=0).nonzero()
        top, left = int(rows.min()), int(cols.min())
        h, w = int(rows.max()) - top + 1, int(cols.max()) - left + 1
        assert int(changed.sum()) == h * w, "the changed pixels form a rectangle"
        patch = pseudo[i][:, top : top + h, left : left + w]
        windows = x[donor].unfold(1, h, 1).unfold(2, w, 1)  # C x rows x cols x h x w
        matches = (windows == patch[:, None, None]).flatten(3).all(dim=3).all(dim=0)
        assert matches.any(), "the patch is a window of the other image"


def test_reconstruction_loss_skips_labelled_anomalies():
    detector = AEClassifier(RunContext(hparams={"alpha": 0.0}))
    detector.generator = torch.Generator().manual_seed(0)
    x, y = _digits(6), torch.tensor([0, 1, 0, 1, 1, 0])
    model = detector.build_model(tuple(x.shape[1:])).eval()  # eval: each output is its own
    with torch.no_grad():
        loss = detector.training_loss(model, x, y)
        normal = x[y == 0]
        expected = (model(normal)[0] - normal).pow(2).mean()
    torch.testing.assert_close(loss, expected)


def test_decoder_returns_its_intermediate_maps_and_the_model_one_logit_per_image():
    decoder = UpDecoder(64, 3, width=1.0)
    x_hat, maps = decoder(torch.randn(2, 64, 4, 4))
    assert x_hat.shape == (2, 3, 64, 64)
    assert [tuple(m.shape[1:]) for m in maps] == [
        (256, 8, 8),
        (128, 16, 16),
        (64, 32, 32),
        (32, 64, 64),
    ]
    x = _digits(3)  # grey digits, padded 8 x 8 -> 16 x 16
    assert x.shape == (3, 1, 16, 16)
    x_hat, logit = AutoencoderClassifier(1, width=0.25).eval()(x)
    assert x_hat.shape == x.shape and logit.shape == (3,)


def test_encoder_weights_load_a_local_state_dict(tmp_path):
    pretrained = AutoencoderClassifier(3, width=0.25).encoder
    path = tmp_path / "encoder.pt"
    torch.save(pretrained.state_dict(), path)
    detector = AEClassifier(RunContext(hparams={"encoder_weights": str(path)}))
    encoder = detector.build_model((3, 64, 64)).encoder
    for name, value in pretrained.state_dict().items():
        assert torch.equal(encoder.state_dict()[name], value), name
