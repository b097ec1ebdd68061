"""The hooks a plugin can implement.

Every registration hook receives a ``register`` callable (the tox pattern): the plugin calls it
once per thing it provides, so the harness knows which plugin provided what and can refuse two
plugins that claim the same name.

Example plugin module (``my_plugin.py``), registered under ``[project.entry-points.bench]``::

    from bench import hookimpl

    @hookimpl
    def bench_register_detectors(register):
        register(MyDetector)
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("bench")
hookimpl = pluggy.HookimplMarker("bench")


@hookspec
def bench_register_detectors(register: Any) -> None:
    """Register detector classes.

    Called once per process when the registry is first built (``bench run``, ``bench plugins``).
    ``register(cls)`` takes a subclass of :class:`bench.detector.Detector`; its ``name`` class
    attribute is the name users pass to ``--detector``.

    Example::

        @hookimpl
        def bench_register_detectors(register):
            register(FullyConnectedAE)
    """


@hookspec
def bench_register_scorers(register: Any) -> None:
    """Register scorers: functions from a detector's outputs to one anomaly score per image.

    Called once when the registry is built. ``register(scorer)`` takes a
    :class:`bench.scorer.Scorer`, whose ``needs`` lists the output names it reads; a detector
    that does not produce them cannot be run with it (refused before training).

    Example::

        @hookimpl
        def bench_register_scorers(register):
            register(Scorer("l1", needs=("reconstruction",), fn=l1_error))
    """


@hookspec
def bench_register_datasets(register: Any) -> None:
    """Register dataset classes.

    Called once when the registry is built. ``register(cls)`` takes a subclass of
    :class:`bench.dataset.Dataset`; its ``name`` is what users pass to ``--dataset``.

    Example::

        @hookimpl
        def bench_register_datasets(register):
            register(Mnist)
    """


@hookspec
def bench_register_metrics(register: Any) -> None:
    """Register evaluation metrics computed on every scored task with labels.

    Called once when the registry is built. ``register(metric)`` takes a
    :class:`bench.metrics.Metric`; its value is stored with every result row.

    Example::

        @hookimpl
        def bench_register_metrics(register):
            register(Metric("auroc", roc_auc_score))
    """


@hookspec
def bench_report_result(result: Any, output_dir: Any) -> None:
    """Called in the driver process with every stored result row, right after it is stored.

    ``result`` is a :class:`bench.results.JobResult` (status ok, failed or diverged; ok rows
    carry ``scores`` and ``labels`` per test image). ``output_dir`` is the
    :class:`~pathlib.Path` of the directory holding the results store, for plugins that write
    files beside it (the ``hw8`` dataset writes its competition submission CSV there).
    Implementations may take only the arguments they use. Exceptions raised here are logged
    and do not stop the run.

    Example::

        @hookimpl
        def bench_report_result(result):
            print(result.detector, result.task, result.metrics.get("auroc"))
    """
