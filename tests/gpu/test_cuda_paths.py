"""The CUDA code paths: on-device data, deterministic and fast training, perf readings.

These run wherever torch sees a CUDA device (``pytest`` includes them; ``-m gpu`` selects only
them) and skip everywhere else, CI included. They train on the embedded digits data, so they
need no download.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from bench.cli import cli
from bench.detector import RunContext
from bench.images import ImageBatches, InputSpec
from bench.plugins import registry
from bench.results import JobResult
from bench.store import read_results
from benchmarks.perf import benchmark
from tests.detectors.digits_helpers import digits_task, run_on_digits

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device"),
]

MODES = {"deterministic": (True, "fp32"), "fast": (False, "bf16")}


@pytest.fixture
def device() -> torch.device:
    return torch.device("cuda")


def _run(detector: str, device: torch.device, mode: str, **hparams) -> JobResult:
    deterministic, precision = MODES[mode]
    settings = {"deterministic": deterministic, "precision": precision}
    return run_on_digits(detector, "1", device=str(device), settings=settings, **hparams)


def test_images_stay_on_the_device_as_uint8(device):
    images = digits_task("1").train_images
    spec = InputSpec(channels=3, size=64)
    batches = ImageBatches(images, spec, device, seed=3)
    assert batches.images.device.type == device.type and batches.images.dtype == torch.uint8
    first = next(batches.batches(32, shuffle=True))
    assert first.device.type == device.type and first.shape == (32, 3, 64, 64)
    again = next(ImageBatches(images, spec, device, seed=3).batches(32, shuffle=True))
    assert torch.equal(first, again), "the on-device permutation must follow the seed"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("detector", benchmark.neural_detectors())
def test_every_neural_detector_learns_on_the_gpu(detector, mode, device):
    result = _run(detector, device, mode)
    assert result.device == str(device) and result.device_name == torch.cuda.get_device_name()
    assert np.isfinite(result.scores).all()
    assert result.metrics["auroc"] >= 0.7  # every one reaches 0.84 or more on CPU


@pytest.mark.parametrize("detector", ["conv_ae", "resnet_ae", "deep_svdd"])
def test_deterministic_mode_repeats_bit_for_bit(detector, device):
    first = _run(detector, device, "deterministic", epochs=2)
    second = _run(detector, device, "deterministic", epochs=2)
    assert np.array_equal(first.scores, second.scores)


def test_fast_mode_trains_in_bf16_on_channels_last_inputs(device):
    seen: list[tuple[torch.dtype, bool]] = []

    def record(module: nn.Module, args: tuple[torch.Tensor], output: torch.Tensor) -> None:
        channels_last = args[0].is_contiguous(memory_format=torch.channels_last)
        seen.append((output.dtype, channels_last))

    cls = registry().get("detectors", "conv_ae")
    ctx = RunContext(device=device, hparams={"epochs": 1}, deterministic=False, precision="bf16")
    detector = cls(ctx)
    build = detector.build_model

    def build_and_watch(shape):
        model = build(shape)
        first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
        first_conv.register_forward_hook(record)
        return model

    detector.build_model = build_and_watch
    detector.fit(ImageBatches(digits_task("1").train_images, cls.input_spec, device))
    assert seen and all(seen_one == (torch.bfloat16, True) for seen_one in seen)


def test_perf_reads_peak_memory_and_rates_on_the_gpu(device):
    settings = benchmark.PerfSettings(device=device, images=512, batch_size=128)
    report = benchmark.run(settings, ["conv_ae"])
    assert report["fast_dtype"] == "bfloat16"
    assert report["matmul_flops_per_s"]["fast"] > report["matmul_flops_per_s"]["fp32"] > 0
    (row,) = report["detectors"]
    for loop in benchmark.LOOPS:
        assert "error" not in row[loop], row[loop]
        assert row[loop]["peak_memory_bytes"] > 0 and row[loop]["images_per_s"] > 0
    assert row["ratio_fp32"] and row["ratio_fast"] and row["floor_images_per_s"]["fast"]


def test_bench_run_on_cuda_records_the_gpu(tmp_path, device):
    store = tmp_path / "s.sqlite"
    args = ["run", "-d", "conv_ae", "--classes", "1", "--device", str(device), "--fast",
            "--epochs", "2", "--store", str(store)]  # fmt: skip
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (row,) = read_results(store).itertuples()
    assert row.status == "ok" and row.device.startswith("cuda")
    assert row.config["precision"] == "bf16" and row.config["deterministic"] is False
