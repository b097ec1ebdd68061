"""The course's training loop, re-created faithfully: the baseline the harness must beat.

The course's notebook kept its face images as an N x 64 x 64 x 3 uint8 numpy array, wrapped
them in a ``TensorDataset`` subclass whose ``__getitem__`` converted one image at a time (to
float32, then ``2. * x / 255. - 1.``), and trained with
``DataLoader(dataset, sampler=RandomSampler(dataset), batch_size=2000)`` -- so the default
``num_workers=0`` -- in fp32 with plain Adam, copying each batch to the GPU with ``.cuda()`` and
reading ``loss.item()`` after every step. Its seeding turned cuDNN's autotuner off and its
deterministic kernels on. All of that is kept here, except the checkpoint it saved each epoch
(disk time, not training).

Model and loss come from the detector: :func:`course_version` puts :class:`CourseLoop` where
``TorchDetector.fit`` was (method resolution order ``cls, CourseLoop, TorchDetector``), so a
detector whose ``fit`` prepares something (a generator; deep_svdd's pretrained encoder and
centre) and then calls ``super().fit`` keeps that preparation and trains its ``build_model``
with its ``training_loss`` the course's way.

The per-sample transforms are written out (no torchvision) and extended to what an
:class:`InputSpec` may ask for -- channel replication, bilinear resizing and zero padding -- one
image at a time, as a torchvision ``Compose`` would.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler

from bench.detector import Detector, RunContext
from bench.images import ImageBatches, InputSpec
from bench.torch_detector import TorchDetector
from benchmarks.perf import data
from benchmarks.perf.harness_loop import training_hparams
from benchmarks.perf.measure import Measurement, timed_fit

Transform = Callable[[torch.Tensor], torch.Tensor]


def _to_float(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float32)


def _replicate(x: torch.Tensor, channels: int) -> torch.Tensor:
    return x.expand(channels, -1, -1)


def _grey(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=0, keepdim=True)


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x[None], size=size, mode="bilinear", align_corners=False)[0]


def _rescale(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    return (hi - lo) * x / 255.0 + lo  # the course's 2. * x / 255. - 1. for [-1, 1]


def sample_transforms(spec: InputSpec, channels: int, size: tuple[int, int]) -> list[Transform]:
    """Per-image steps turning one C x H x W uint8 image into what ``spec`` asks for.

    Module-level functions under ``partial`` rather than lambdas, so DataLoader workers can
    pickle the dataset.
    """
    steps: list[Transform] = [_to_float]
    if spec.channels is not None and spec.channels != channels:
        if channels == 1:
            steps.append(partial(_replicate, channels=spec.channels))
        elif spec.channels == 1:
            steps.append(_grey)
        else:
            raise ValueError(f"cannot turn {channels} channels into {spec.channels}")
    resized, padding = spec.plan(size, spec.resolve((channels, *size))[1:])
    if resized != size:
        steps.append(partial(_resize, size=resized))
    if any(padding):
        steps.append(partial(F.pad, pad=padding))  # 0 before rescaling: the harness's black
    steps.append(partial(_rescale, lo=spec.value_range[0], hi=spec.value_range[1]))
    return steps


class CourseDataset(Dataset):
    """An N x H x W x C uint8 array served one converted C x H x W float image at a time."""

    def __init__(self, images_nhwc: np.ndarray, spec: InputSpec) -> None:
        self.tensors = torch.from_numpy(images_nhwc).permute(0, 3, 1, 2)
        channels, size = self.tensors.shape[1], tuple(self.tensors.shape[2:])
        self.shape = spec.shape(channels, size)
        self.transforms = sample_transforms(spec, channels, size)

    def __len__(self) -> int:
        return len(self.tensors)

    def __getitem__(self, index: int) -> torch.Tensor:
        x = self.tensors[index]
        for transform in self.transforms:
            x = transform(x)
        return x


class CourseLoop(TorchDetector):
    """``TorchDetector.fit`` as the course wrote it. Mixed in by :func:`course_version`."""

    num_workers = 0

    def fit(self, train: ImageBatches) -> CourseLoop:
        device = self.ctx.device
        # The course loaded its array from disk: from here on the images live on the host.
        dataset = CourseDataset(data.nhwc(train.images), self.input_spec)
        loader = DataLoader(
            dataset,
            sampler=RandomSampler(dataset),
            batch_size=int(self.hparams["batch_size"]),
            num_workers=self.num_workers,
        )
        self.model = model = self.build_model(dataset.shape).to(device)
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=self.hparams["lr"],
            weight_decay=self.hparams.get("weight_decay", 0.0),
        )
        epochs = int(self.hparams["epochs"])
        for epoch in range(epochs):
            model.train()
            step_losses = []
            for batch in loader:
                x = batch.to(device)
                loss = self.training_loss(model, x, None)
                step_losses.append(loss.item())
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            self.ctx.epoch_done(epoch, epochs, float(np.mean(step_losses)))
        return self


def course_version(detector_cls: type, num_workers: int = 0) -> type:
    """``detector_cls`` trained by the course's loop (same name, model, loss and outputs)."""
    attrs = {"num_workers": num_workers, "__doc__": f"{detector_cls.__name__}, course loop"}
    return type(f"Course{detector_cls.__name__}", (detector_cls, CourseLoop), attrs)


def course_seed(seed: int) -> None:
    """The course's ``same_seeds``; also undoes the harness's global deterministic mode."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def train(
    detector_cls: type,
    images: torch.Tensor,
    device: torch.device,
    *,
    seed: int,
    batch_size: int | None,
    epochs: int,
    warmup: int = 1,
    hparams: dict[str, Any] | None = None,
    num_workers: int = 0,
) -> tuple[Measurement, Detector]:
    """Train a fresh model of ``detector_cls`` the course's way on uint8 N x C x H x W
    ``images``; time the last ``epochs``. Returns the measurement and the fitted detector."""
    course_seed(seed)
    ctx = RunContext(
        device=device,
        seed=seed,
        hparams=training_hparams(detector_cls, warmup + epochs, batch_size, hparams),
    )
    return timed_fit(course_version(detector_cls, num_workers), ctx, images, epochs)
