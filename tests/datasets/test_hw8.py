"""``hw8``: npy files written here, optional labels, the submission CSV and its wiring into
``bench run``'s executor loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.dataset import DataError
from bench.executors import SerialExecutor
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from plugins.datasets.hw8 import Hw8, write_submission

N_TRAIN, N_TEST, SIDE = 64, 24, 16


class _NoProgress:
    def job_started(self, job):
        pass

    def epoch(self, job, epoch, total, loss):
        pass


def faces(n: int, seed: int, anomalous: bool = False) -> np.ndarray:
    """Smooth gradients with noise; anomalies have an inverted square in the middle."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(40, 210, SIDE)[None, :, None, None]
    images = ramp + rng.normal(0, 6, (n, SIDE, SIDE, 3))
    if anomalous:
        images[:, 4:12, 4:12] = 255 - images[:, 4:12, 4:12]
    return np.clip(images, 0, 255).astype(np.uint8)


@pytest.fixture
def hw8_dir(tmp_path) -> tuple[Path, np.ndarray]:
    """data_dir with hw8/trainingset.npy and hw8/testingset.npy; returns it and the 0/1 labels."""
    folder = tmp_path / "data" / "hw8"
    folder.mkdir(parents=True)
    np.save(folder / "trainingset.npy", faces(N_TRAIN, 0))
    labels = np.repeat([0, 1], N_TEST // 2)
    test = np.concatenate([faces(N_TEST // 2, 1), faces(N_TEST // 2, 2, anomalous=True)])
    order = np.random.default_rng(3).permutation(N_TEST)
    np.save(folder / "testingset.npy", test[order])
    return tmp_path / "data", labels[order]


def test_loads_unlabelled(hw8_dir):
    data_dir, _ = hw8_dir
    splits = Hw8(data_dir).load().validate("hw8")
    assert splits.train_images.shape == (N_TRAIN, 3, SIDE, SIDE)
    assert splits.test_images.shape == (N_TEST, 3, SIDE, SIDE)
    assert splits.train_labels is None and splits.test_labels is None
    raw = np.load(data_dir / "hw8" / "testingset.npy")
    assert np.array_equal(splits.test_images[5].numpy(), raw[5].transpose(2, 0, 1))


@pytest.mark.parametrize("fmt", ["npy", "csv with header", "csv without header"])
def test_labels_option(hw8_dir, tmp_path, fmt):
    data_dir, labels = hw8_dir
    path = tmp_path / ("labels.npy" if fmt == "npy" else "labels.csv")
    if fmt == "npy":
        np.save(path, labels)
    else:
        pd.DataFrame({"label": labels}).to_csv(
            path, index_label="ID", header=fmt.endswith(" header")
        )
    splits = Hw8(data_dir, labels=str(path)).load()
    assert splits.test_labels.tolist() == labels.tolist()


def test_labels_count_mismatch(hw8_dir, tmp_path):
    data_dir, labels = hw8_dir
    np.save(tmp_path / "labels.npy", labels[:-2])
    with pytest.raises(DataError, match=f"{N_TEST - 2} entries but the test set {N_TEST} images"):
        Hw8(data_dir, labels=str(tmp_path / "labels.npy")).load()


def test_labels_must_be_zero_or_one(hw8_dir, tmp_path):
    data_dir, labels = hw8_dir
    np.save(tmp_path / "labels.npy", labels * 2)
    with pytest.raises(DataError, match="0 .normal. or 1 .anomalous."):
        Hw8(data_dir, labels=str(tmp_path / "labels.npy")).load()


def test_wrong_shape_or_dtype_names_file_shape_and_dtype(hw8_dir):
    data_dir, _ = hw8_dir
    np.save(data_dir / "hw8" / "trainingset.npy", np.zeros((4, SIDE, SIDE), np.uint8))
    with pytest.raises(DataError, match=rf"trainingset.npy: expected .* got uint8 \(4, {SIDE}"):
        Hw8(data_dir).load()
    np.save(data_dir / "hw8" / "trainingset.npy", np.zeros((4, SIDE, SIDE, 3), np.float32))
    with pytest.raises(DataError, match="trainingset.npy: expected .* got float32"):
        Hw8(data_dir).load()


def test_truncated_npy_is_named(hw8_dir):
    data_dir, _ = hw8_dir
    path = data_dir / "hw8" / "testingset.npy"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataError, match="testingset.npy: not a readable .npy"):
        Hw8(data_dir).load()


def test_missing_file_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="trainingset.npy not found in .*course's HW8"):
        Hw8(tmp_path).load()


def test_export_scores_writes_the_submission_csv(tmp_path):
    scores = np.random.default_rng(0).random(N_TEST)
    path = write_submission(scores, tmp_path / "out", "stem")
    assert path == tmp_path / "out" / "stem.csv"
    assert path.read_text().splitlines()[0] == "ID,score"
    frame = pd.read_csv(path)
    assert frame["ID"].tolist() == list(range(N_TEST))
    assert np.allclose(frame["score"], scores)
    assert [p.name for p in path.parent.iterdir()] == ["stem.csv"]  # no temporary file left


@pytest.mark.parametrize("with_labels", [False, True])
def test_run_writes_a_submission_beside_the_store(hw8_dir, tmp_path, with_labels):
    data_dir, labels = hw8_dir
    options = {}
    if with_labels:
        np.save(tmp_path / "labels.npy", labels)
        options["labels"] = str(tmp_path / "labels.npy")
    spec = RunSpec(
        detectors=["pca"], dataset="hw8", data_dir=str(data_dir), dataset_options=options
    )
    jobs = plan_jobs(spec)
    with ResultStore(tmp_path / "store" / "r.sqlite") as store:
        (result,) = execute(jobs, store, SerialExecutor(), _NoProgress())
    assert result.status == "ok", result.error
    csv = tmp_path / "store" / "submissions" / "hw8-hw8-pca-mse-seed0.csv"
    frame = pd.read_csv(csv)
    assert list(frame.columns) == ["ID", "score"] and len(frame) == N_TEST
    assert np.allclose(frame["score"], result.scores)
    if with_labels:  # the inverted squares are far from the training faces
        assert result.metrics["auroc"] > 0.9
    else:
        assert "auroc" not in result.metrics
