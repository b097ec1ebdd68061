"""``vae``: the convolutional variational autoencoder of the course's anomaly-detection assignment
(Kingma & Welling 2014, "Auto-Encoding Variational Bayes").

Encoder: ``conv_ae``'s first two layers (Conv2d C-12-24, kernel 4, stride 2, padding 1, ReLU),
then two parallel Conv2d 24->48 heads for the posterior mean and log-variance of a
48 x H/8 x W/8 latent (48 x 8 x 8 at the course's 64 x 64); decoder ConvTranspose2d 48-24-12-C
with ReLU and Tanh last. The course put a ReLU after
both heads; we leave the heads linear, because a ReLU there forces ``mu >= 0`` and
``logvar >= 0`` (posterior variance never below the prior's), which is not a Gaussian posterior.

Loss, per image and averaged over the batch: summed squared pixel error plus ``kl_weight`` times
the KL divergence to N(0, I). With ``kl_weight = 1`` this is exactly the negative ELBO of a
unit-variance Gaussian decoder, i.e. the quantity the default ``elbo`` scorer reports, so the
model is trained on what it is scored with. The course instead added the *mean* pixel error to
the *summed* KL, which weights KL about 12288 times more and collapses the posterior to the
prior on small data. ``kl_weight`` is kept as a hyperparameter for beta-VAE style trade-offs.

Scoring decodes the posterior mean (no sampling), so scores are deterministic.
"""

from __future__ import annotations

import torch
from torch import nn

from bench import hookimpl
from bench.constraints import NON_NEGATIVE
from bench.images import InputSpec
from bench.torch_detector import TorchDetector


class ConvVAE(nn.Module):
    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(channels, 12, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(12, 24, 4, stride=2, padding=1),
            nn.ReLU(),
        )
        self.mu = nn.Conv2d(24, 48, 4, stride=2, padding=1)
        self.logvar = nn.Conv2d(24, 48, 4, stride=2, padding=1)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(48, 24, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(24, 12, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(12, channels, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mu(h), self.logvar(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction from a reparameterised sample z = mu + sigma * eps, with mu, logvar."""
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        return self.decoder(z), mu, logvar


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per image."""
    return -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).flatten(1).sum(dim=1)


class VAE(TorchDetector):
    name = "vae"
    produces = ("reconstruction", "mu", "logvar")
    default_scorer = "elbo"
    # Three stride-2 layers down and three up: sizes must divide by 8 (digits 8, MNIST 28 -> 32).
    input_spec = InputSpec(value_range=(-1.0, 1.0), size_multiple=8)
    # Epochs: from epoch 9 on, the training loss (mean over the 10 digits classes) falls by under
    # 5% of its value per epoch over the next 5. Batch 16: 8 steps per epoch on a digits class,
    # each ~3 ms on a CPU at 1 x 8 x 8.
    defaults = {"epochs": 9, "batch_size": 16, "lr": 1e-3, "kl_weight": 1.0}
    hparam_constraints = {"kl_weight": NON_NEGATIVE}

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        return ConvVAE(input_shape[0])

    def training_loss(self, model, x, y):
        reconstruction, mu, logvar = model(x)
        squared_error = (reconstruction - x).pow(2).flatten(1).sum(dim=1)
        kl = kl_to_standard_normal(mu, logvar)
        return (squared_error + self.hparams["kl_weight"] * kl).mean()

    def forward_outputs(self, model, x):
        mu, logvar = model.encode(x)
        return {"reconstruction": model.decoder(mu), "mu": mu, "logvar": logvar}


@hookimpl
def bench_register_detectors(register):
    register(VAE)
