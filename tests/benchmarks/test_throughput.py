"""Training-step and scoring throughput of every registered TorchDetector on a fixed batch.

The batch is seeded random uint8 images converted by the detector's own input spec, so a
change in a model, the shared training loop or the input conversion shows up as a slower
benchmark. They run in the harness's default configuration (deterministic, fp32), the one
``bench run`` uses unless told ``--fast``. Each timed call ends with a CUDA synchronisation, so
GPU time is measured, not kernel-launch time.
"""

from __future__ import annotations

import pytest
import torch

from bench import environment
from bench.detector import RunContext
from bench.images import ImageBatches
from bench.plugins import registry
from bench.seeding import seed_everything
from bench.torch_detector import TorchDetector

BATCH = 8
RAW_SHAPE = (3, 32, 32)  # CIFAR-sized RGB; specs convert channels and size as each needs


def _torch_detectors() -> list[str]:
    reg = registry()
    return [n for n in reg.names("detectors") if issubclass(reg.get("detectors", n), TorchDetector)]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@pytest.fixture(params=_torch_detectors())
def fitted(request):
    """A detector fitted for one step on the batch (its model, centre etc. built), the batch
    converted by its spec, and the device."""
    cls = registry().get("detectors", request.param)
    device = environment.resolve_device("auto")
    seed_everything(0)
    hparams = {k: v for k, v in {"epochs": 1, "batch_size": BATCH}.items() if k in cls.defaults}
    detector = cls(RunContext(device=device, seed=0, hparams=hparams))
    images = torch.randint(0, 256, (BATCH, *RAW_SHAPE), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
    detector.fit(ImageBatches(images, detector.input_spec, device, seed=0))
    x = detector.input_spec.convert(images.to(device))
    return detector, x, device


def test_training_step(benchmark, fitted):
    detector, x, device = fitted
    model = detector.model
    optimizer = detector.make_optimizer(model)
    model.train()

    def step():
        loss = detector.training_loss(model, x, None)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        _sync(device)

    benchmark.extra_info["images_per_call"] = BATCH
    benchmark(step)


def test_scoring(benchmark, fitted):
    detector, x, device = fitted
    scorer = registry().get("scorers", detector.default_scorer)

    def score():
        scores = scorer(detector.outputs(x), x)
        _sync(device)
        return scores

    benchmark.extra_info["images_per_call"] = BATCH
    assert benchmark(score).shape == (BATCH,)
