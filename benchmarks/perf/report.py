"""``perf.json`` (everything measured) and ``perf.md`` (the table a reader compares)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from bench import environment

MIB = 2**20


def describe_environment(device: torch.device, command: str) -> dict[str, Any]:
    return {
        "device": str(device),
        "device_name": (
            environment.device_name(device) if device.type == "cuda" else environment.processor()
        ),
        "cpu_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "cuda_version": environment.cuda_version(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
    }


def _rate(loop: dict[str, Any]) -> float | None:
    return loop.get("images_per_s")


def _mib(loop: dict[str, Any]) -> float | None:
    peak = loop.get("peak_memory_bytes")
    return None if peak is None else peak / MIB


def table(report: dict[str, Any]) -> pd.DataFrame:
    """One row per detector; missing values (a failed loop, memory on CPU) stay NaN."""
    rows = []
    for r in report["detectors"]:
        ref, fp32, fast = r["reference"], r["harness_fp32"], r["harness_fast"]
        rows.append(
            {
                "detector": r["detector"],
                "params": r.get("parameters"),
                "input": "x".join(map(str, r["input_shape"])),
                "batch": r["batch_size"],
                "reference img/s": _rate(ref),
                "harness fp32 img/s": _rate(fp32),
                "fp32 / ref": r["ratio_fp32"],
                "harness fast img/s": _rate(fast),
                "fast / ref": r["ratio_fast"],
                "fp32 / ref CPU-time": r["ratio_fp32_cpu"],
                "fast / ref CPU-time": r["ratio_fast_cpu"],
                "peak MiB ref": _mib(ref),
                "peak MiB fp32": _mib(fp32),
                "peak MiB fast": _mib(fast),
                "MFLOP/img": r["flops_per_image"] and r["flops_per_image"] / 1e6,
                "floor img/s fp32": r["floor_images_per_s"]["fp32"],
                "floor img/s fast": r["floor_images_per_s"]["fast"],
            }
        )
    return pd.DataFrame(rows)


def _errors(report: dict[str, Any]) -> list[str]:
    return [
        f"- {r['detector']} / {loop}: {r[loop]['error']}"
        for r in report["detectors"]
        for loop in ("reference", "harness_fp32", "harness_fast")
        if "error" in r[loop]
    ]


def _auroc_section(check: dict[str, Any]) -> list[str]:
    if "skipped" in check:
        return ["## AUROC check", "", f"Skipped: {check['skipped']}"]
    frame = pd.DataFrame(check["runs"])
    return [
        "## AUROC check",
        "",
        f"{check['detector']} on MNIST class {check['task']} ({check['epochs']} epochs, "
        f"batch {check['batch_size']}); reference {check['reference_mean']:.4f} "
        f"± {check['reference_std']:.4f}, harness {check['harness_mean']:.4f} "
        f"± {check['harness_std']:.4f} (mean ± std over seeds).",
        "",
        frame.to_markdown(index=False, floatfmt=("g", ".4f", ".4f")),
    ]


def markdown(report: dict[str, Any]) -> str:
    env, settings = report["environment"], report["settings"]
    rates = report["matmul_flops_per_s"]
    lines = [
        "# Training throughput: the course's loop vs the harness",
        "",
        f"- device: {env['device']} ({env['device_name']}), {env['cpu_threads']} CPU threads",
        f"- torch {env['torch_version']}, CUDA {env['cuda_version'] or 'n/a'}",
        f"- date: {env['date']}",
        f"- command: `{env['command']}`",
        f"- data: {settings['images']} {settings['data']} images; {settings['warmup']} warm-up "
        f"+ {settings['epochs']} timed epoch(s); best of {settings['repeats']}; "
        f"reference num_workers={settings['num_workers']}; compile={settings['compile']}",
        f"- matmul rate: {rates['fp32'] / 1e12:.3f} TFLOP/s fp32, {rates['fast'] / 1e12:.3f} "
        f"TFLOP/s {report['fast_dtype']} (fast path)",
        "",
        "reference = the course's per-sample DataLoader loop (fp32, plain Adam); harness fp32 = "
        "`bench run` (deterministic); harness fast = `bench run --fast` (bf16 autocast, "
        "channels_last, fused Adam on CUDA; plain fp32 but non-deterministic on CPU). "
        "Ratios are harness / reference images/s; the CPU-time ones divide images per "
        "CPU-second of this process, which other load on a shared machine does not distort. "
        "Floor = images/s if every counted FLOP ran at the matmul rate. Peak memory is each "
        "loop's working memory above the start (n/a on CPU); the harness also keeps the "
        f"uint8 images on the device: {report['resident_image_bytes'] / MIB:.0f} MiB.",
        "",
        table(report).to_markdown(index=False, floatfmt=".4g", missingval="n/a"),
    ]
    errors = _errors(report)
    if errors:
        lines += ["", "Failed loops:", *errors]
    if report.get("auroc_check"):
        lines += ["", *_auroc_section(report["auroc_check"])]
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "perf.json", out_dir / "perf.md"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path
