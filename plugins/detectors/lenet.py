"""The LeNet-type networks of Ruff et al. 2018 (Deep SVDD's encoder and the DCAE around it).

Every layer is bias-free and every BatchNorm has ``affine=False``: Deep SVDD maps normal images
close to a fixed centre, and any bias or BatchNorm shift would let the network output that
centre for every input (the paper's Proposition 2). Activations are leaky ReLU (slope 0.01),
BatchNorm epsilon 1e-4, as in the authors' PyTorch code.

``network="theano"`` builds the layers of the authors' earlier Theano/Lasagne code
(github.com/lukasruff/Deep-SVDD, the code behind the paper's Table 1): Lasagne's BatchNorm
learns a scale and a shift (``affine=True``), and weights start Glorot-uniform with Lasagne's
gains: 1 for linear maps; for convolutions sqrt(2 / (1 + 0.01^2)) where their MNIST network
builds a convolution module, else ``ConvLayer``'s default sqrt(2) (MNIST's reconstruction,
every convolution of CIFAR-10's ``cifar10_architecture`` 3). Their CIFAR-10 autoencoder also
differs from the PyTorch one in where it normalises: not the 128-value code (PyTorch's
BatchNorm1d) but the reconstruction, before its sigmoid. Their decoder's size-keeping
convolutions are the transposed convolutions here with the filter flipped, the same family
under a symmetric initialisation. Other shapes get the MNIST network's choices.

:func:`lenet_autoencoder` picks the authors' network by input shape: ``mnist_LeNet`` for
1 x 28 x 28, ``cifar10_LeNet`` for 3 x 32 x 32. Any other shape (e.g. digits', enlarged to
1 x 12 x 12 by :data:`MIN_SIDE`) gets the MNIST encoder with a decoder that upsamples back to
that shape (our own, shape-generic).
"""

from __future__ import annotations

import math

import torch
from torch import nn

BN_EPS = 1e-4  # the authors' BatchNorm epsilon
MNIST_SHAPE, CIFAR10_SHAPE = (1, 28, 28), (3, 32, 32)
# (conv widths, representation size) of the authors' encoders
MNIST_NET, CIFAR10_NET = ([8, 4], 32), ([32, 64, 128], 128)


def min_side(widths: list[int], rep_dim: int) -> int:
    """The smallest square side at which an encoder's last feature map holds ``rep_dim`` values.

    Below it the bias-free linear map into the representation spans fewer than ``rep_dim``
    dimensions: on digits' 8 x 8 the MNIST encoder's 4 x 2 x 2 = 16 features reached only 16 of
    its 32 (the authors' networks compress, 196 -> 32 on MNIST, 2048 -> 128 on CIFAR-10).
    """
    return 2 ** len(widths) * math.ceil(math.sqrt(rep_dim / widths[-1]))


# Every shape but CIFAR-10's gets the MNIST encoder: 4 * ceil(sqrt(32 / 4)) = 12.
MIN_SIDE = min_side(*MNIST_NET)
NETWORKS = ("pytorch", "theano")
LEAKY_GAIN = (2 / (1 + 0.01**2)) ** 0.5  # Lasagne GlorotUniform gain in the Theano conv modules
RELU_GAIN = 2**0.5  # GlorotUniform(gain="relu"), the Theano code's ConvLayer default


def _norm_act(channels: int, affine: bool) -> list[nn.Module]:
    return [nn.BatchNorm2d(channels, eps=BN_EPS, affine=affine), nn.LeakyReLU()]


def _deconv(c_in: int, c_out: int, padding: int = 2) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 5, padding=padding, bias=False)


class LeNetEncoder(nn.Module):
    """Per stage a 5x5 convolution, BatchNorm, leaky ReLU, 2x2 max-pool; then a linear map."""

    def __init__(
        self, input_shape: tuple[int, int, int], widths: list[int], rep_dim: int, affine: bool
    ) -> None:
        super().__init__()
        channels, height, width = input_shape
        layers: list[nn.Module] = []
        self.sizes = [(height, width)]  # spatial size before each pooling, then the final one
        for c_in, c_out in zip((channels, *widths), widths, strict=False):
            layers += [nn.Conv2d(c_in, c_out, 5, padding=2, bias=False), *_norm_act(c_out, affine)]
            layers.append(nn.MaxPool2d(2))
            h, w = self.sizes[-1]
            self.sizes.append((h // 2, w // 2))
        if min(self.sizes[-1]) < 1:
            side = 2 ** len(widths)
            raise ValueError(f"{len(widths)} poolings need {side} x {side} images or larger")
        self.features = nn.Sequential(*layers)
        self.feature_shape = (widths[-1], *self.sizes[-1])
        self.fc = nn.Linear(math.prod(self.feature_shape), rep_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


def _mnist_decoder(affine: bool) -> nn.Sequential:
    # 32 -> 2x4x4 -> 8x8 -> 16x16 -> (padding 3) 14x14 -> 28x28, as in MNIST_LeNet_Autoencoder.
    up = nn.Upsample(scale_factor=2)
    return nn.Sequential(
        nn.Unflatten(1, (2, 4, 4)), nn.LeakyReLU(), up,
        _deconv(2, 4), *_norm_act(4, affine), up,
        _deconv(4, 8, padding=3), *_norm_act(8, affine), up,
        _deconv(8, 1), nn.Sigmoid(),
    )  # fmt: skip


def _cifar10_decoder(theano: bool) -> nn.Sequential:
    # 128 -> 8x4x4 -> 4x4 -> 8x8 -> 16x16 -> 32x32, as in CIFAR10_LeNet_Autoencoder (PyTorch: the
    # code through BatchNorm1d) and cifar10_architecture 3 (Theano: BatchNorm on the output).
    code_norm = [] if theano else [nn.BatchNorm1d(128, eps=BN_EPS, affine=False)]
    layers: list[nn.Module] = [
        *code_norm, nn.Unflatten(1, (8, 4, 4)),
        nn.LeakyReLU(), _deconv(8, 128), *_norm_act(128, theano),
    ]  # fmt: skip
    for c_in, c_out in ((128, 64), (64, 32)):
        layers += [nn.Upsample(scale_factor=2), _deconv(c_in, c_out), *_norm_act(c_out, theano)]
    layers += [nn.Upsample(scale_factor=2), _deconv(32, 3)]
    if theano:
        layers.append(nn.BatchNorm2d(3, eps=BN_EPS))
    return nn.Sequential(*layers, nn.Sigmoid())


def _generic_decoder(encoder: LeNetEncoder, channels: int, affine: bool) -> nn.Sequential:
    # The encoder reversed: a linear map back to the last feature map, then per stage an upsample
    # to the size before that stage's pooling and a size-keeping 5x5 transposed convolution.
    widths = [m.out_channels for m in encoder.features if isinstance(m, nn.Conv2d)]
    layers: list[nn.Module] = [
        nn.Linear(encoder.fc.out_features, encoder.fc.in_features, bias=False),
        nn.Unflatten(1, encoder.feature_shape), nn.LeakyReLU(),
    ]  # fmt: skip
    outs = [*widths[::-1][1:], channels]
    for c_in, c_out, size in zip(widths[::-1], outs, encoder.sizes[-2::-1], strict=False):
        layers += [nn.Upsample(size=size), _deconv(c_in, c_out), *_norm_act(c_out, affine)]
    layers[-2:] = [nn.Sigmoid()]
    return nn.Sequential(*layers)


class LeNetAutoencoder(nn.Module):
    """The encoder (Deep SVDD's network) and a decoder with a sigmoid output for [0, 1] inputs."""

    def __init__(self, encoder: LeNetEncoder, decoder: nn.Sequential) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def theano_init(model: nn.Module, conv_gain: float) -> None:
    """Glorot-uniform weights as Lasagne drew them: ``conv_gain`` for every convolution but a
    decoder's last (the reconstruction, built with ``ConvLayer``'s default gain), 1 for linear
    maps."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    last = convs[-1] if isinstance(model, LeNetAutoencoder) else None
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
        elif m in convs:
            nn.init.xavier_uniform_(m.weight, gain=RELU_GAIN if m is last else conv_gain)


def _theano_conv_gain(shape: tuple[int, ...]) -> float:
    # cifar10_architecture 3 adds bare ConvLayers; the MNIST network, convolution modules.
    return RELU_GAIN if shape == CIFAR10_SHAPE else LEAKY_GAIN


def _encoder(shape: tuple[int, ...], affine: bool) -> LeNetEncoder:
    widths, rep_dim = CIFAR10_NET if shape == CIFAR10_SHAPE else MNIST_NET
    return LeNetEncoder(shape, widths, rep_dim, affine)  # type: ignore[arg-type]


def lenet_encoder(input_shape: tuple[int, int, int], network: str = "pytorch") -> LeNetEncoder:
    shape = tuple(input_shape)
    encoder = _encoder(shape, affine=network == "theano")
    if network == "theano":
        theano_init(encoder, _theano_conv_gain(shape))
    return encoder


def lenet_autoencoder(
    input_shape: tuple[int, int, int], network: str = "pytorch"
) -> LeNetAutoencoder:
    shape, theano = tuple(input_shape), network == "theano"
    encoder = _encoder(shape, affine=theano)
    if shape == MNIST_SHAPE:
        model = LeNetAutoencoder(encoder, _mnist_decoder(affine=theano))
    elif shape == CIFAR10_SHAPE:
        model = LeNetAutoencoder(encoder, _cifar10_decoder(theano))
        if not theano:
            # Only the authors' PyTorch CIFAR-10 autoencoder initialises its (de)convolutions so.
            gain = nn.init.calculate_gain("leaky_relu")
            for m in model.modules():
                if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                    nn.init.xavier_uniform_(m.weight, gain=gain)
    else:
        model = LeNetAutoencoder(encoder, _generic_decoder(encoder, shape[0], affine=theano))
    if theano:
        theano_init(model, _theano_conv_gain(shape))
    return model
