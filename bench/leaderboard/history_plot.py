"""``bench history``'s figure: a metric and training throughput per series over commits, with the
commit where each flagged step began marked. Drawn like the leaderboard figures (Agg, no
pyplot, colours by series name)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from bench.leaderboard.history import Series
from bench.leaderboard.plots import _save, colours

SHORT_COMMIT = 8


def history_png(series: list[Series], metric: str, path: Path) -> None:
    commits: list[str] = []
    for s in sorted(series, key=lambda s: s.points[0].started_at or ""):
        commits += [p.commit for p in s.points if p.commit not in commits]
    x = {commit: i for i, commit in enumerate(commits)}
    palette = colours([s.describe() for s in series])
    height = 6.0 + 0.2 * len(series)  # room for the legend underneath, one series a line
    fig = Figure(figsize=(max(8.0, 1.0 + 0.6 * len(commits)), height), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for s in series:
        colour = palette[s.describe()]
        for ax, field, step in (
            (top, "value", s.metric_step),
            (bottom, "throughput", s.throughput_step),
        ):
            points = [(x[p.commit], getattr(p, field)) for p in s.points]
            points = [(i, v) for i, v in points if v is not None]
            if not points:
                continue
            ax.plot(*zip(*points, strict=True), marker="o", color=colour, label=s.describe())
            if step is not None:
                ax.axvline(x[step.commit] - 0.5, color=colour, linestyle="--", linewidth=1)
    top.set_ylabel(f"mean {metric}")
    bottom.set_ylabel("training images/s")
    bottom.set_yscale("log")
    bottom.set_xticks(range(len(commits)), [c[:SHORT_COMMIT] for c in commits], rotation=45)
    bottom.set_xlabel("commit (dashed: a step began here)")
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", fontsize="small")
    _save(fig, path)
