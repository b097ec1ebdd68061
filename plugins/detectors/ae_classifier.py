"""``ae_classifier``: the autoencoder-classifier of the deepfake-detection write-up, one-class.

An encoder maps the image to a feature map ``f``; a decoder of upsampling blocks reconstructs
the image and hands back its intermediate maps; a multi-scale fusion pools those maps to ``f``'s
resolution, mixes them with a 1x1 convolution and gates ``f`` with them; a second encoder reads
the residual ``x - x_hat``, whose features ``g`` are fused as ``f * g + f``; global max and
average pooling feed a linear classifier whose logit says "anomalous" (default scorer: logit).
The loss is ``alpha * BCE(logit, label) + beta * MSE(x_hat, x)``, the reconstruction term on
normal images only.

Deviations from the write-up, and why:

* Its encoder is a pretrained Swin Transformer; nothing can be downloaded here, so both
  encoders are the residual stages of ``resnet_ae`` (``blocks.ResNetFeatures``), randomly
  initialised unless ``encoder_weights`` names a local ``state_dict`` for the first one.
* It trains on labelled real and fake images. The one-class protocol has normal images only,
  so the anomalous class is made on the fly from each training batch (CutPaste, Li et al. 2021:
  a random rectangle of another image pasted at a random place, plus Gaussian noise on the
  patch), one pseudo-anomaly per image, from a generator seeded with the run's seed. When the
  task offers labelled anomalies (``--labelled-anomalies``) they join as label 1 as well.
* The decoder's widths (256-128-64-32, halving as the resolution doubles, as in DCGAN) are
  ours: the write-up's follow its Swin encoder.
* The fusion gate passes through a sigmoid so the product with ``f`` stays bounded.

``width`` multiplies every channel count as in ``blocks``; the default keeps the embedded
``digits`` run at a few CPU seconds per job.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from bench import hookimpl
from bench.constraints import NON_NEGATIVE, POSITIVE, Allowed
from bench.images import ImageBatches, InputSpec
from bench.torch_detector import TorchDetector
from plugins.detectors.blocks import DOWNSAMPLING, ResNetFeatures, scaled

# One x2 upsampling block each, undoing the encoder's 16-fold downsampling (4 x 4 -> 64 x 64 at
# the course's size), DCGAN-style taper.
UP_WIDTHS = (256, 128, 64, 32)
PATCH_SIDE = (0.15, 0.4)  # patch sides as fractions of the image's: 2% to 16% of its area


class UpBlock(nn.Module):
    """x2 transposed-convolution upsampling, then a 3x3 convolution + BN + GELU."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(c_in, c_out, 2, stride=2),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.GELU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class UpDecoder(nn.Module):
    """Feature map -> image, also returning every block's output for the fusion."""

    def __init__(self, c_in: int, channels: int, width: float) -> None:
        super().__init__()
        widths = scaled(UP_WIDTHS, width)
        self.blocks = nn.ModuleList(
            UpBlock(a, b) for a, b in zip((c_in, *widths), widths, strict=False)
        )
        self.to_image = nn.Sequential(nn.Conv2d(widths[-1], channels, 1), nn.Tanh())
        self.map_channels = sum(widths)

    def forward(self, f: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        maps = []
        for block in self.blocks:
            f = block(f)
            maps.append(f)
        return self.to_image(f), maps


class MultiScaleFusion(nn.Module):
    """Average-pool each decoder map to the encoder's resolution, concatenate, 1x1 conv, gate.

    Plain strided average pooling, not adaptive pooling: its backward pass is deterministic on
    CUDA too.
    """

    def __init__(self, map_channels: int, channels: int) -> None:
        super().__init__()
        self.mix = nn.Sequential(nn.Conv2d(map_channels, channels, 1), nn.Sigmoid())

    def forward(self, f: torch.Tensor, maps: list[torch.Tensor]) -> torch.Tensor:
        size = f.shape[-1]
        pooled = [F.avg_pool2d(m, m.shape[-1] // size) for m in maps]
        return f * self.mix(torch.cat(pooled, dim=1))


class AutoencoderClassifier(nn.Module):
    def __init__(self, channels: int, width: float) -> None:
        super().__init__()
        self.encoder = ResNetFeatures(channels, width)
        c = self.encoder.out_channels
        self.decoder = UpDecoder(c, channels, width)
        self.fusion = MultiScaleFusion(self.decoder.map_channels, c)
        self.residual_encoder = ResNetFeatures(channels, width)
        self.classifier = nn.Linear(2 * c, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The reconstruction and one "anomalous" logit per image."""
        f = self.encoder(x)
        x_hat, maps = self.decoder(f)
        f = self.fusion(f, maps)
        g = self.residual_encoder(x - x_hat)
        h = f * g + f
        pooled = torch.cat([h.amax(dim=(2, 3)), h.mean(dim=(2, 3))], dim=1)
        return x_hat, self.classifier(pooled).squeeze(1)


def cutpaste(
    x: torch.Tensor,
    generator: torch.Generator,
    noise: float,
    value_range: tuple[float, float],
) -> torch.Tensor:
    """One pseudo-anomaly per image: a rectangle from another image of the batch, pasted at a
    random place and perturbed with Gaussian noise of std ``noise``.

    Vectorised (index maps and ``gather``, no per-image Python), so it runs on the batch's
    device; every random number comes from ``generator``.
    """
    n, c, h, w = x.shape
    u = torch.rand(n, 7, generator=generator, device=x.device)
    lo, hi = PATCH_SIDE
    ph = (h * (lo + (hi - lo) * u[:, 0])).long().clamp(1, h)
    pw = (w * (lo + (hi - lo) * u[:, 1])).long().clamp(1, w)
    src_y, src_x = (u[:, 2] * (h - ph + 1)).long(), (u[:, 3] * (w - pw + 1)).long()
    dst_y, dst_x = (u[:, 4] * (h - ph + 1)).long(), (u[:, 5] * (w - pw + 1)).long()
    # Another image of the batch (the same one only when the batch has one image).
    donor = (torch.arange(n, device=x.device) + 1 + (u[:, 6] * (n - 1)).long()) % n

    def col(t: torch.Tensor) -> torch.Tensor:
        return t.view(n, 1, 1)

    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (
        (rows >= col(dst_y))
        & (rows < col(dst_y + ph))
        & (cols >= col(dst_x))
        & (cols < col(dst_x + pw))
    )
    from_y = (rows - col(dst_y) + col(src_y)).clamp(0, h - 1)
    from_x = (cols - col(dst_x) + col(src_x)).clamp(0, w - 1)
    index = (from_y * w + from_x).view(n, 1, h * w).expand(n, c, h * w)
    patch = x[donor].flatten(2).gather(2, index).view(n, c, h, w)
    patch = patch + noise * torch.randn(x.shape, generator=generator, device=x.device)
    return torch.where(inside.unsqueeze(1), patch.clamp(*value_range), x)


class AEClassifier(TorchDetector):
    name = "ae_classifier"
    produces: ClassVar[tuple[str, ...]] = ("reconstruction", "logit")
    default_scorer = "logit"
    input_spec = InputSpec(value_range=(-1.0, 1.0), size_multiple=DOWNSAMPLING)
    uses_labelled_anomalies = True
    defaults: ClassVar[dict[str, Any]] = {
        # Epochs: the other models' rule (loss falling under 5% of its value per epoch) is met
        # at 6, but this loss keeps falling 3% per epoch up to epoch 36 (5 CPU s per digits
        # class); 10 (~1.4 s) is what a one-minute bench run --all affords. Batch 32 rather
        # than 8: an epoch costs half as much and the loss per step falls faster (0.46 of epoch
        # 1's after 56 steps, against 0.65 at batch 8).
        "epochs": 10,
        "batch_size": 32,
        "lr": 1e-3,
        "width": 0.25,
        "alpha": 1.0,
        "beta": 1.0,
        "noise": 0.1,
        "encoder_weights": None,
    }
    hparam_constraints: ClassVar[dict[str, Allowed]] = {
        "width": POSITIVE,
        "alpha": NON_NEGATIVE,
        "beta": NON_NEGATIVE,
        "noise": NON_NEGATIVE,
    }

    @classmethod
    def check_hparams(cls, hparams: Mapping[str, Any]) -> None:
        super().check_hparams(hparams)
        # A mistyped path would otherwise fail every job, once each has loaded its data.
        path = hparams["encoder_weights"]
        if path is not None and not (isinstance(path, str) and Path(path).is_file()):
            raise ValueError(f"encoder_weights must be None or a state_dict file, got {path!r}")

    def fit(self, train: ImageBatches) -> TorchDetector:
        # Seeded apart from the global RNG so the pseudo-anomalies depend on the seed alone.
        self.generator = torch.Generator(device=self.ctx.device).manual_seed(self.ctx.seed)
        return super().fit(train)

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        model = AutoencoderClassifier(input_shape[0], self.hparams["width"])
        path = self.hparams["encoder_weights"]
        if path is not None:
            model.encoder.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model

    def training_loss(self, model, x, y):
        n = x.shape[0]
        pseudo = cutpaste(x, self.generator, self.hparams["noise"], self.input_spec.value_range)
        real = torch.zeros(n, device=x.device) if y is None else y.float()
        labels = torch.cat([real, torch.ones(n, device=x.device)])
        batch = torch.cat([x, pseudo])
        x_hat, logit = model(batch)
        classification = F.binary_cross_entropy_with_logits(logit.float(), labels)
        # Reconstruct normal images only: the reconstruction error is what the residual
        # encoder reads, so anomalies must not learn to be reconstructed well.
        normal = 1.0 - labels
        per_image = (x_hat.float() - batch).pow(2).flatten(1).mean(dim=1)
        reconstruction = (per_image * normal).sum() / normal.sum().clamp_min(1.0)
        return self.hparams["alpha"] * classification + self.hparams["beta"] * reconstruction

    def forward_outputs(self, model, x):
        x_hat, logit = model(x)
        return {"reconstruction": x_hat, "logit": logit}


@hookimpl
def bench_register_detectors(register):
    register(AEClassifier)
