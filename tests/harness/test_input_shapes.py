"""Each detector is fed the dataset's own shape, enlarged only as far as it needs, unless the
run forces one; the effective shape is planned once and recorded with every row."""

from __future__ import annotations

import torch

from bench import hookimpl
from bench.detector import Detector
from bench.executors import SerialExecutor
from bench.images import InputSpec
from bench.plugins import plugin_manager, registry
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from tests.harness.test_runner import Silent


class FixedShape(Detector):
    """A third-party detector that insists on 1 x 32 x 32."""

    name = "fixed_shape"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec(channels=1, size=32)

    def fit(self, train):
        self.seen = train.shape
        return self

    def outputs(self, x):
        assert tuple(x.shape[1:]) == (1, 32, 32)
        return {"score": x.mean(dim=(1, 2, 3))}


class FixedShapePlugin:
    @hookimpl
    def bench_register_detectors(self, register):
        register(FixedShape)


def test_no_digits_detector_is_fed_the_course_shape():
    jobs = plan_jobs(RunSpec(detectors=registry().names("detectors"), classes=["0"]))
    shapes = {job.experiment.detector: job.experiment.input_shape for job in jobs}
    assert (3, 64, 64) not in shapes.values()
    assert all(shape[0] == 1 and shape[1] <= 16 for shape in shapes.values()), shapes


def test_a_fixed_input_spec_gets_exactly_its_shape_and_rows_record_it(tmp_path):
    plugin_manager().register(FixedShapePlugin(), name="fixed")
    jobs = plan_jobs(RunSpec(detectors=["fixed_shape", "pca"], classes=["0"]))
    with ResultStore(tmp_path / "s.sqlite") as store:
        results = execute(jobs, store, SerialExecutor(), Silent())
        frame = store.dataframe()
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    assert [c["input_shape"] for c in frame["config"]] == [[1, 32, 32], [1, 8, 8]]
    assert torch.Size(jobs[0].experiment.input_shape) == torch.Size([1, 32, 32])
