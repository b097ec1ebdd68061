"""Markdown leaderboards: the numbers of :mod:`bench.leaderboard.tables`, laid out by tabulate.

Cells are formatted here (fixed decimals, "failed"/"diverged" plus a footnote instead of a
number); tabulate does the table layout.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from bench.leaderboard import critical, protocol, reproduction
from bench.leaderboard.markdown import metric_label, row_label, table
from bench.leaderboard.plots import RECONSTRUCTION_TASKS, PlotSet
from bench.leaderboard.reference import ReferenceRow
from bench.leaderboard.tables import (
    MISSING,
    OK,
    PARTIAL,
    Leaderboard,
    cells_of,
    is_number,
)

REGENERATE = "bench leaderboard --store STORE --out DIR"
STORE_NOTE = "STORE: a results store, or a folder of them such as `bench export` writes"


def _one_line(text: str) -> str:
    """An error message made safe for one Markdown line inside backticks."""
    return re.sub(r"\s+", " ", text).replace("`", "'").strip()


class _Footnotes:
    """Numbers each distinct (status, error) once and remembers which jobs it covers."""

    def __init__(self) -> None:
        self.notes: dict[tuple[str, str], dict[str, Any]] = {}

    def refs(self, label: str, task: str, errors: Sequence[Mapping[str, Any]]) -> str:
        numbers = []
        for e in errors:
            key = (str(e["status"]), _one_line(str(e["error"])))
            note = self.notes.setdefault(key, {"n": len(self.notes) + 1, "jobs": {}})
            note["jobs"].setdefault(label, {}).setdefault(task, []).append(int(e["seed"]))
            numbers.append(note["n"])
        return "".join(f"[^{n}]" for n in sorted(set(numbers)))

    def lines(self) -> list[str]:
        out = []
        for (status, error), note in self.notes.items():
            where = "; ".join(
                f"{label} task(s) {', '.join(tasks)}" for label, tasks in note["jobs"].items()
            )
            count = sum(len(seeds) for tasks in note["jobs"].values() for seeds in tasks.values())
            out.append(f"[^{note['n']}]: {status} in {count} job(s) ({where}): `{error}`")
        return out


def _metric_cell(cell: Mapping[str, Any], metric: str, label: str, notes: _Footnotes) -> str:
    status = cell["status"]
    if status == MISSING:
        return "not run"
    refs = notes.refs(label, cell["task"], cell["errors"])
    if status not in (OK, PARTIAL):
        return f"{status}{refs}"
    if not is_number(cell[f"{metric}_mean"]):
        return f"no test labels {refs}".strip()  # scored, but nothing to compute a metric on
    text = f"{cell[f'{metric}_mean']:.3f}"
    if cell["n_ok"] > 1:
        text += f" ± {cell[f'{metric}_std']:.3f}"
    return f"{text} {refs}".strip()


def _summary_value(value: Any, fmt: str, row: Mapping[str, Any]) -> str:
    """A summary number, or the row's status when it has none (never 0 or blank)."""
    if is_number(value):
        return format(value, fmt)
    return row["status"] if row["status"] != OK else "n/a"


def mean_ranked(row: Mapping[str, Any], metric: str) -> str:
    text = _summary_value(row[f"mean_{metric}"], ".3f", row)
    scored, total = row["n_tasks_scored"], row["n_tasks"]
    if is_number(row[f"mean_{metric}"]) and scored < total:
        text += f" ({scored}/{total} tasks)"
    return text


def results_table(lb: Leaderboard, notes: _Footnotes) -> pd.DataFrame:
    ranked, *others = lb.metrics
    records = []
    for row in lb.summary.to_dict("records"):
        label = row_label(row["detector"], row["scorer"])
        mine = cells_of(lb, row["detector"], row["scorer"])
        record = {"detector": row["detector"], "scorer": row["scorer"]}
        for cell in mine.to_dict("records"):
            record[cell["task"]] = _metric_cell(cell, ranked.name, label, notes)
        record |= {
            f"mean {metric_label(ranked.name)}": mean_ranked(row, ranked.name),
            "avg rank": f"{row['avg_rank']:.2f}" if row["n_tasks_scored"] else row["status"],
            **{
                metric_label(m.name): _summary_value(row[f"mean_{m.name}"], ".3f", row)
                for m in others
            },
            "fit s": _summary_value(row["fit_seconds"], ",.3f", row),
            "train img/s": _summary_value(row["train_images_per_s"], ",.0f", row),
            "params": _summary_value(row["parameters"], ",.0f", row),
            "input": ", ".join(row["input_shapes"]),
        }
        records.append(record)
    return pd.DataFrame(records)


def _cpus(provenance: dict[str, Any]) -> str:
    cpus, unrecorded = provenance.get("cpus", []), provenance.get("n_without_cpu", 0)
    if not unrecorded:
        return "; ".join(cpus)
    before = "stored before 2026-12-07, when rows began to record it"
    if not cpus:
        return f"not recorded ({before})"
    return f"{'; '.join(cpus)}; not recorded for {unrecorded} result(s) ({before})"


def _provenance_table(lb: Leaderboard) -> str:
    p = lb.provenance
    suites = [f"`{s}`" for s in p["suites"]]
    if p["n_without_suite"]:
        suites.append(f"none recorded for {p['n_without_suite']} result(s) (ad-hoc `bench run`)")
    pairs = [
        ("data", protocol.data_protocol(lb)),
        ("classes", protocol.classes(lb)),
        ("seeds", protocol.seeds_per_detector(lb)),
        ("device", "; ".join(p["devices"])),
        ("CPU", _cpus(p)),
        ("results", str(p["n_results"])),
        ("suite", "; ".join(suites)),
        ("git commit", ", ".join(f"`{c[:12]}`" for c in p["git_commits"]) or "unknown"),
        ("run between", f"{p['first_started_at']} and {p['last_finished_at']}"),
        ("torch threads", ", ".join(p.get("torch_threads", [])) or "unknown"),
    ]
    return pd.DataFrame(pairs, columns=["produced from", ""]).to_markdown(
        index=False, disable_numparse=True
    )


def _published_cell(value: float | None) -> str:
    return "not reported" if value is None else f"{value:.3f}"


def _reference_section(lb: Leaderboard, reference: Sequence[ReferenceRow]) -> list[str]:
    mine = [r for r in reference if r.dataset == lb.dataset]
    if not mine:
        return []
    tasks = [t for t in lb.tasks if any(t in r.auroc for r in mine)] or sorted(mine[0].auroc)
    # A board of 4 of CIFAR-10's 10 classes beside the paper's 10-class mean (0.648 against
    # 0.594 over the same 4 for Deep SVDD) reads as a gap that is not there: the mean column
    # covers the classes shown, and the paper's own mean gets a column of its own.
    partial = any(set(r.auroc) - set(tasks) for r in mine)
    frame = pd.DataFrame(
        {
            "method": r.method,
            **{t: _published_cell(r.auroc.get(t)) for t in tasks},
            "mean AUROC": _published_cell(r.mean_over(tasks)),
            **({"mean, all published classes": _published_cell(r.mean_auroc)} if partial else {}),
        }
        for r in mine
    )
    scope = (
        " *mean AUROC* is over the classes shown, like the rows above; the papers' own means, "
        "over every class they report, are in the last column."
        if partial
        else ""
    )
    return [
        "## Published results (external, not produced by this harness)",
        "",
        "Numbers as the papers report them, for orientation only: other architectures, "
        "preprocessing and training budgets, so they are not ranked against the rows above."
        + scope,
        "",
        table(frame),
        "",
        *(f"- {r.method}: {r.source}. Read from {r.read_from}." for r in mine),
        "",
    ]


def _plot_section(lb: Leaderboard, plots: PlotSet) -> list[str]:
    lines = [
        "## Plots",
        "",
        f"Mean {metric_label(lb.rank_by)} over tasks; error bars are the standard deviation "
        "over seeds of each seed's mean.",
        "",
        f"![mean {metric_label(lb.rank_by)}]({plots.bars})",
        "",
        f"ROC curves per normal class (seed {plots.seed}):",
        "",
        f"![ROC curves]({plots.roc})",
        "",
    ]
    if plots.histograms:
        links = ", ".join(f"[{label}]({path})" for label, path in plots.histograms.items())
        lines += [f"Score histograms, normal vs anomalous (seed {plots.seed}): {links}.", ""]
    if plots.reconstructions:
        links = ", ".join(f"[{label}]({path})" for label, path in plots.reconstructions.items())
        lines += [
            f"Inputs, reconstructions and absolute errors, first {RECONSTRUCTION_TASKS} normal "
            f"classes (seed {plots.seed}): {links}.",
            "",
        ]
    return lines


def _settings_table(lb: Leaderboard) -> str:
    frame = pd.DataFrame(
        {
            "detector": row["detector"],
            "scorer": row["scorer"],
            "settings": "<br>".join(f"`{s}`" for s in row["settings"]),
        }
        for row in lb.summary.to_dict("records")
    )
    return table(frame)


def dataset_markdown(
    lb: Leaderboard,
    plots: PlotSet | None,
    reference: Sequence[ReferenceRow],
    defaults: protocol.Defaults,
    cd: critical.CriticalDifference | str,
) -> str:
    notes = _Footnotes()
    results = table(results_table(lb, notes))
    ranked, *others = lb.metrics
    name = metric_label(ranked.name)
    direction = "higher" if ranked.higher_is_better else "lower"
    other_text = (
        f"{', '.join(metric_label(m.name) for m in others)} are means over classes; "
        if others
        else ""
    )
    lines = [
        f"# Leaderboard: {lb.dataset}",
        "",
        f"Generated by `bench leaderboard` from the results store; do not edit, regenerate with "
        f"`{REGENERATE}` ({STORE_NOTE}). Machine-readable: [{lb.dataset}.csv]({lb.dataset}.csv), "
        f"[{lb.dataset}.json]({lb.dataset}.json).",
        "",
        _provenance_table(lb),
        "",
        *protocol.pinned_lines(lb, defaults),
        f"## {name} per normal class",
        "",
        f"Mean ± sample standard deviation over seeds. Rows are ranked per class by mean {name} "
        f"(1 = best, {direction} is better); *avg rank* is the mean over classes, with classes "
        f"that failed ranked last. {other_text}*fit s* and *train img/s* (training images × "
        "epochs / fit seconds) are means over jobs; *params* is the median learned parameter "
        "count; *input* is the C x H x W each detector was fed.",
        "",
        results,
        "",
        *notes.lines(),
        "",
        *_reference_section(lb, reference),
        *reproduction.section(lb, reference),
        *critical.section(lb, cd, plots.cd if plots else None),
        *(_plot_section(lb, plots) if plots else []),
        "## Configurations",
        "",
        "Everything that defines each row's runs besides detector, scorer and class (the config "
        "hashed into each result). A later run of the same detector, scorer, class and seed "
        "replaces an earlier one.",
        "",
        _settings_table(lb),
        "",
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
