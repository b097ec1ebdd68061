"""Bad configuration is refused before any training, in one line naming the key and what is
allowed (issue: values were only found per job, every job failed, exit 0)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.errors import PlanError
from bench.experiment import Settings
from bench.runner import RunSpec, plan_jobs
from bench.suite import load_suite


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "0"], "epochs must be an integer >= 1, got 0"),
        (["--epochs", "-1"], "epochs must be an integer >= 1"),
        (["--batch-size", "0"], "batch_size must be an integer >= 1"),
        (["--lr", "nan"], "lr must be a finite number > 0, got nan"),
        (["--lr", "-1"], "lr must be a finite number > 0"),
        (["--seeds", "-1"], "seeds must be integers in [0, 2**32)"),
        (["--seeds", "99999999999999999999"], "seeds must be integers in [0, 2**32)"),
        (["--classes", ""], "no class selected"),
        (["--seeds", "a"], "--seeds expects integers"),
        (["--set", "nosuch.epochs=1"], "settings for unknown detector(s) ['nosuch']"),
        (["--set", "epochs=abc"], "epochs must be an integer >= 1, got 'abc'"),
        (["--max-train", "0"], "setting max_train = 0 must be at least 1"),
        (["--precision", "fp8"], "setting precision = 'fp8' must be one of fp32, bf16"),
        (["--labelled-anomalies", "1.5"], "labelled_fraction = 1.5 must be a fraction"),
    ],
)
def test_bad_run_options_are_one_line_errors_before_training(tmp_path, args, message):
    assert _refused_in_one_line(tmp_path, ["-d", "conv_ae", *args], message) != 0


@pytest.mark.parametrize(
    "setting, message",
    [
        ("geom.width=0", "detector 'geom': width must be an integer >= 1, got 0"),
        ("geom.depth=12", "detector 'geom': depth must be 6n + 4 with n >= 1"),
        ("resnet_ae.dropout=1.0", "dropout must be a finite number in [0, 1), got 1.0"),
        ("fcn_ae.widths=[64,0]", "widths must be a non-empty list of integers >= 1"),
        ("iforest.max_samples=0", "max_samples must be 'auto', an integer >= 1 or"),
        ("ae_classifier.encoder_weights=nosuch.pt", "encoder_weights must be None or a state"),
        ("deep_svdd.nu=0", "nu must be a finite number in (0, 1], got 0"),
    ],
)
def test_a_bad_detector_setting_is_one_line_before_training(tmp_path, setting, message):
    # Each detector's own hyperparameters (hparam_constraints), not only the shared ones.
    detector = setting.split(".")[0]
    assert _refused_in_one_line(tmp_path, ["-d", detector, "--set", setting], message) == 2


def _refused_in_one_line(tmp_path, args: list[str], message: str) -> int:
    """``bench run ARGS`` says ``message`` in one line and stores nothing; its exit code."""
    store = tmp_path / "s.sqlite"
    result = CliRunner().invoke(cli, ["run", "--store", str(store), *args])
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert not store.exists(), "nothing may be trained or stored"
    return result.exit_code


@pytest.mark.parametrize(
    "text, message",
    [
        ("[hparam]\nepochs = 1\n", "unknown table(s) ['hparam']; known: ['suite', 'hparams', "),
        ('[suite]\ndetectors = "pca"\n', 'detectors must be "all" or a list, e.g. ["pca"]'),
        ("[suite]\nclasses = 0\n", 'classes must be "all" or a list, e.g. [0, 1]'),
        ('[suite]\nseeds = "0,1"\n', "seeds must be a list of integers"),
        ("[suite]\nmax_train = -5\n", "setting max_train = -5 must be at least 1"),
        ('[suite]\nprecision = "fp8"\n', "must be one of fp32, bf16"),
        ('[suite]\ncompile = "yes"\n', "setting compile = 'yes' must be bool, not str"),
        ("[suite]\nnosuch = 1\n", "unknown [suite] key(s) ['nosuch']"),
    ],
)
def test_bad_suite_files_name_the_key(tmp_path, text, message):
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(PlanError, match=re.escape(message)):
        load_suite(path, ["pca"])


def test_a_suite_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(b"[suite]\nname = '\xff'\n")
    with pytest.raises(PlanError, match="is not UTF-8 text"):
        load_suite(path, ["pca"])


def test_every_setting_is_a_suite_key_and_a_run_option(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[suite]\ncompile = true\nmax_test = 7\n")
    assert load_suite(path, ["pca"]).settings == Settings(compile=True, max_test=7)
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    for flag in ("--labelled-anomalies", "--max-train", "--max-test", "--no-deterministic",
                 "--precision", "--compile"):  # fmt: skip
        assert flag in help_text


def test_settings_at_their_defaults_stay_out_of_the_config():
    # The config hashed into a row is schema 1's layout plus the effective input shape; a
    # setting added later (input_size, input_channels) enters it only when set, so adding one
    # never moves the hashes of the rows already stored.
    (job,) = plan_jobs(RunSpec(detectors=["pca"], classes=["0"]))
    schema_1 = {"detector": "pca", "scorer": "mse", "dataset": "digits", "dataset_options": {},
                "task": "0", "hparams": {"n_components": 0.9}, "labelled_fraction": 0.0,
                "max_train": None, "max_test": None, "deterministic": True, "precision": "fp32",
                "compile": False, "input_shape": [1, 8, 8]}  # fmt: skip
    canonical = json.dumps(schema_1, sort_keys=True, default=str)
    assert job.row_keys() == [(hashlib.sha256(canonical.encode()).hexdigest()[:16], 0)]


def test_hyperparameters_added_later_enter_the_config_only_off_their_default():
    # dcae's network was added after its rows were stored: at "pytorch" a job keeps the hash of
    # the committed digits rows, at "theano" the value is recorded (and hashed).
    committed = "93a62a643532ae42"  # dcae, digits class 3, seed 0, in leaderboards/results
    (default,) = plan_jobs(RunSpec(detectors=["dcae"], classes=["3"]))
    assert "network" not in default.experiment.hparams
    assert default.row_keys() == [(committed, 0)]
    (theano,) = plan_jobs(RunSpec(detectors=["dcae"], classes=["3"],
                                  detector_hparams={"dcae": {"network": "theano"}}))  # fmt: skip
    assert theano.experiment.hparams["network"] == "theano"
    assert theano.row_keys()[0][0] != committed


def test_a_forced_shape_is_part_of_the_experiment():
    forced = Settings(input_size=64, input_channels=3)
    (native,) = plan_jobs(RunSpec(detectors=["conv_ae"], classes=["0"]))
    (course,) = plan_jobs(RunSpec(detectors=["conv_ae"], classes=["0"], settings=forced))
    assert native.experiment.input_shape == (1, 8, 8)
    assert course.experiment.input_shape == (3, 64, 64)
    config = course.experiment.config("mse")
    assert config["input_size"] == 64 and config["input_shape"] == [3, 64, 64]
    assert native.row_keys() != course.row_keys()


def test_a_shape_a_detector_cannot_take_is_refused_before_training():
    with pytest.raises(PlanError, match="detector 'conv_ae'"):
        plan_jobs(RunSpec(detectors=["conv_ae"], classes=["0"], settings=Settings(input_size=30)))


def test_repeated_classes_seeds_and_scorers_plan_each_job_once():
    spec = RunSpec(detectors=["pca"], classes=["0", "0"], seeds=[0, 0], scorers=["mse", "mse"])
    (job,) = plan_jobs(spec)
    assert job.scorers == ("mse",) and job.seed == 0


def test_a_suite_without_a_suite_table_is_refused(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("")
    with pytest.raises(PlanError, match=r"no \[suite\] table"):
        load_suite(path, ["pca"])
