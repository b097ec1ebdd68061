"""``bench perf``: train throughput of the course's loop vs the harness, per neural detector."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.commands.errors import friendly_errors
from bench.commands.options import parse_pairs, split_values
from bench.environment import resolve_device
from bench.errors import PlanError
from bench.paths import resolve_data_dir
from bench.plugins import registry
from bench.runner import check_hparam_keys
from benchmarks.perf import auroc, benchmark, report

DEFAULT_IMAGES = {"cuda": 100_000, "cpu": 2048}  # the course's 100k faces; far fewer on CPU


@click.command("perf")
@click.option(
    "-d",
    "--detector",
    "detectors",
    multiple=True,
    help="Detector name(s); default: every neural (TorchDetector) detector.",
)
@click.option(
    "--images",
    type=click.IntRange(min=1),
    help="Training images (default: 100000 on CUDA, 2048 on CPU).",
)
@click.option(
    "--data",
    type=click.Choice(["synthetic", "mnist"]),
    default="synthetic",
    show_default=True,
    help="Seeded synthetic 3x64x64 images (the course's size) or MNIST, upsampled by each detector.",
)
@click.option(
    "--data-dir",
    help="Where MNIST lives, for --data mnist and --check-auroc (else $BENCH_DATA_DIR, else a per-user cache).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Batch size for both loops (the course's 2000), clipped to the image count.",
)
@click.option(
    "--detector-batch",
    is_flag=True,
    help="Use each detector's own default batch size instead of --batch-size.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Timed epochs per loop.",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Untimed warm-up epochs before them.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Report the fastest of this many runs per loop.",
)
@click.option(
    "--num-workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="DataLoader workers of the reference loop (the course used the default, 0).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="[DETECTOR.]KEY=VALUE",
    help="A hyperparameter for both loops, for all detectors or one (e.g. deep_svdd.pretrain_epochs=1).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--compile", "compile_", is_flag=True, help="torch.compile the harness's fast variant."
)
@click.option(
    "--check-auroc",
    is_flag=True,
    help="Also compare test AUROC of both loops on one MNIST task (slow).",
)
@click.option(
    "--auroc-detector", default="conv_ae", show_default=True, help="Detector for --check-auroc."
)
@click.option(
    "--auroc-class", default="0", show_default=True, help="MNIST normal class for --check-auroc."
)
@click.option("--auroc-seeds", default="0,1,2", show_default=True, help="Seeds for --check-auroc.")
@click.option(
    "--auroc-epochs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Epochs for --check-auroc.",
)
@click.option(
    "--out",
    default="leaderboards",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory for perf.json and perf.md.",
)
@friendly_errors
def perf_command(**opts: Any) -> None:
    """Measure training images/s of the course's DataLoader loop and of the harness, per
    detector, on the same data, model, seed, batch size and epochs."""
    console = Console()
    device = resolve_device(opts["device"])
    data_dir = resolve_data_dir(opts["data_dir"])
    settings = benchmark.PerfSettings(
        device=device,
        images=opts["images"] or DEFAULT_IMAGES.get(device.type, DEFAULT_IMAGES["cpu"]),
        data=opts["data"],
        data_dir=data_dir,
        batch_size=None if opts["detector_batch"] else opts["batch_size"],
        epochs=opts["epochs"],
        warmup=opts["warmup"],
        num_workers=opts["num_workers"],
        seed=opts["seed"],
        compile=opts["compile_"],
        repeats=opts["repeats"],
    )
    neural = benchmark.neural_detectors()
    detectors = split_values(opts["detectors"]) or neural
    for name in [d for d in detectors if d not in neural]:
        registry().get("detectors", name)  # an unknown name gets the registry's own message
        raise click.UsageError(f"{name} does not train through TorchDetector: nothing to compare")
    for key, value in parse_pairs(opts["settings"], "--set").items():
        detector, _, name = key.rpartition(".")
        settings.hparams.setdefault(detector or "*", {})[name] = value
    measured = [*detectors, opts["auroc_detector"]] if opts["check_auroc"] else detectors
    check_settings(settings.hparams, list(dict.fromkeys(measured)))

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        auto_refresh=False,  # a refresh thread slows CPU training (see bench.progress)
    )
    loops = progress.add_task("loops", total=len(detectors) * len(benchmark.LOOPS))

    def started(detector: str, loop: str) -> None:
        progress.update(loops, description=f"{detector}: {loop} loop")
        progress.refresh()

    def show(row: dict[str, Any]) -> None:
        ratios = ", ".join(
            f"{v}: {row[f'ratio_{v}']:.2f}x" if row[f"ratio_{v}"] else f"{v}: n/a"
            for v in ("fp32", "fast")
        )
        progress.console.print(f"{row['detector']}: harness/reference {ratios}")
        progress.advance(loops, len(benchmark.LOOPS))
        progress.refresh()

    with progress:
        result = benchmark.run(settings, detectors, on_row=show, on_loop=started)
    result["environment"] = report.describe_environment(
        device, shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    )
    if opts["check_auroc"]:
        seeds = [int(s) for s in split_values((opts["auroc_seeds"],))]
        result["auroc_check"] = auroc.check(
            opts["auroc_detector"],
            data_dir,
            opts["auroc_class"],
            seeds,
            opts["auroc_epochs"],
            device,
            opts["num_workers"],
            settings.hparams_for(opts["auroc_detector"]),
        )
        if "skipped" in result["auroc_check"]:
            console.print(f"AUROC check skipped: {result['auroc_check']['skipped']}")
    json_path, md_path = report.write(result, Path(opts["out"]))
    console.print(f"wrote {json_path} and {md_path}")


def check_settings(hparams: dict[str, dict[str, Any]], detectors: list[str]) -> None:
    """Refuse a ``--set`` key that no measured detector has, as ``bench run`` does."""
    reg = registry()
    classes = {name: reg.get("detectors", name) for name in detectors}
    own = {target: values for target, values in hparams.items() if target != "*"}
    for target in own:
        if target not in classes:
            raise click.UsageError(
                f"--set {target}.KEY: {target} is not among the measured detectors "
                f"({', '.join(detectors)})"
            )
    try:
        check_hparam_keys(hparams.get("*", {}), own, classes, role="measured")
    except PlanError as exc:
        raise click.UsageError(f"--set: {exc}") from None
