"""``python -m benchmarks.perf``: the course's loop and the harness measured on equal terms, on
CPU, tiny data."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from bench.detector import RunContext
from bench.images import InputSpec
from bench.plugins import registry
from benchmarks.perf import auroc, data, harness_loop, reference_loop
from benchmarks.perf.benchmark import LOOPS
from benchmarks.perf.cli import perf_command
from plugins.detectors.conv_ae import ConvAE

CPU = torch.device("cpu")


def test_perf_command_writes_json_and_markdown(tmp_path):
    out = tmp_path / "lb"
    args = ["-d", "conv_ae", "--images", "128", "--batch-size", "32", "--epochs", "1",
            "--device", "cpu", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(perf_command, args)
    assert result.exit_code == 0, result.output

    report = json.loads((out / "perf.json").read_text())
    assert report["environment"]["device"] == "cpu"
    assert report["environment"]["torch_version"] == torch.__version__
    assert report["settings"]["images"] == 128
    assert report["matmul_flops_per_s"]["fp32"] > 0
    assert report["resident_image_bytes"] == 128 * 3 * 64 * 64
    (row,) = report["detectors"]
    assert row["detector"] == "conv_ae"
    assert row["batch_size"] == 32 and row["input_shape"] == [3, 64, 64]
    assert row["parameters"] > 0 and row["flops_per_image"] > 0
    assert all(rate > 0 for rate in row["floor_images_per_s"].values())
    for loop in LOOPS:
        measured = row[loop]
        assert "error" not in measured, measured
        assert measured["images_per_s"] > 0 and measured["images_per_cpu_s"] > 0
        assert measured["timed_images"] == 128  # one timed epoch after the warm-up epoch
        assert measured["peak_memory_bytes"] is None  # no allocator statistics on CPU
        assert len(measured["epoch_losses"]) == 2
    for variant in ("fp32", "fast"):
        expected = row[f"harness_{variant}"]["images_per_s"] / row["reference"]["images_per_s"]
        assert row[f"ratio_{variant}"] == pytest.approx(expected)

    markdown = (out / "perf.md").read_text()
    assert "| conv_ae" in markdown and "reference img/s" in markdown
    assert f"torch {torch.__version__}" in markdown


def test_perf_refuses_a_detector_without_a_training_loop(tmp_path):
    result = CliRunner().invoke(perf_command, ["-d", "pca", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "pca does not train through TorchDetector" in result.output
    assert not (tmp_path / "perf.json").exists()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("conv_ae.no_such_key=1", "detector 'conv_ae' has no hyperparameter(s) ['no_such_key']"),
        ("no_such_key=1", "no measured detector has hyperparameter(s) ['no_such_key']"),
        ("vae.epochs=1", "vae is not among the measured detectors"),
    ],
)
def test_perf_refuses_settings_no_measured_detector_has(tmp_path, setting, message):
    args = ["-d", "conv_ae", "--set", setting, "--out", str(tmp_path)]
    result = CliRunner().invoke(perf_command, args)
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "perf.json").exists()


def test_both_loops_train_the_same_model_down():
    """Batch orders differ, so weights do; but both must learn the same data from the same
    seeded starting point."""
    cls = registry().get("detectors", "conv_ae")
    images = data.synthetic(128, seed=0)
    detector = cls(RunContext())
    x = detector.input_spec.convert(images)
    torch.manual_seed(0)
    fresh = detector.build_model(tuple(x.shape[1:]))
    options = {"seed": 0, "batch_size": 16, "epochs": 2, "warmup": 1}
    _, by_reference = reference_loop.train(cls, images, CPU, **options)
    _, by_harness = harness_loop.train(cls, images, CPU, **options)
    with torch.no_grad():
        before = detector.training_loss(fresh, x, None).item()
        after = {
            "reference": detector.training_loss(by_reference.model, x, None).item(),
            "harness": detector.training_loss(by_harness.model, x, None).item(),
        }
    assert all(loss < 0.9 * before for loss in after.values()), (before, after)


class _PreparedAE(ConvAE):
    """A loss that needs state its fit prepares before calling the shared loop, as
    ae_classifier's generator or deep_svdd's centre do."""

    def fit(self, train):
        self.loss_scale = 2.0
        return super().fit(train)

    def training_loss(self, model, x, y):
        return self.loss_scale * super().training_loss(model, x, y)


def test_course_loop_keeps_a_detectors_own_fit_preparation():
    images = data.synthetic(32, seed=0)
    measured, detector = reference_loop.train(
        _PreparedAE, images, CPU, seed=0, batch_size=16, epochs=1, warmup=0
    )
    assert isinstance(detector, _PreparedAE) and isinstance(detector, reference_loop.CourseLoop)
    assert detector.loss_scale == 2.0 and detector.model is not None
    assert measured.timed_images == 32 and len(measured.epoch_losses) == 1


@pytest.mark.parametrize(
    ("spec", "raw_shape"),
    [
        (InputSpec(channels=3, size=64, value_range=(-1.0, 1.0)), (3, 64, 64)),  # HW8 faces
        (InputSpec(channels=3, size=64, value_range=(-1.0, 1.0)), (1, 28, 28)),  # MNIST, upsampled
        (InputSpec(value_range=(-1.0, 1.0), size_multiple=16), (1, 28, 28)),  # MNIST, padded
        (InputSpec(min_size=12, size_multiple=8), (1, 8, 8)),  # digits, resized and padded
        (InputSpec(channels=1, value_range=(0.0, 1.0)), (3, 32, 32)),
    ],
)
def test_reference_samples_match_harness_batches(spec, raw_shape):
    """Both loops must feed the model the same pixels, or the comparison is meaningless."""
    images = torch.randint(0, 256, (6, *raw_shape), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
    dataset = reference_loop.CourseDataset(data.nhwc(images), spec)
    samples = torch.stack([dataset[i] for i in range(len(dataset))])
    torch.testing.assert_close(samples, spec.convert(images), rtol=0, atol=1e-5)
    assert dataset.shape == tuple(samples.shape[1:])


def test_auroc_check_skips_without_mnist(tmp_path):
    outcome = auroc.check("conv_ae", tmp_path, "0", [0], epochs=1, device=CPU)
    assert set(outcome) == {"skipped"} and "MNIST" in outcome["skipped"]


@pytest.mark.slow
def test_auroc_check_on_mnist(mnist_dir):
    # Digit 1 as normal: a 1-epoch autoencoder already ranks the inkier other digits higher.
    outcome = auroc.check("conv_ae", mnist_dir, "1", [0], epochs=1, device=CPU)
    (run,) = outcome["runs"]
    assert 0.5 < run["reference"] <= 1 and 0.5 < run["harness"] <= 1
    assert abs(run["reference"] - run["harness"]) < 0.1  # training path, not the result, differs
