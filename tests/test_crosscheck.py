"""``python -m benchmarks.crosscheck_deep_svdd``: what runs without the authors' code (which is
not part of the project): the check of ``--code`` and the reading of their logged AUROCs."""

from __future__ import annotations

import logging

import pytest

from benchmarks.crosscheck_deep_svdd import _AucLog, main


def test_a_folder_without_their_code_is_refused_in_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--code", str(tmp_path), "--normal-class", "5"])
    assert stop.value.code == 2
    assert f"--code {tmp_path}: no deepSVDD.py there" in capsys.readouterr().err


def test_their_logged_test_aucs_are_read_in_order():
    log = logging.getLogger("crosscheck-test")
    log.setLevel(logging.INFO)
    aucs = _AucLog()
    log.addHandler(aucs)
    try:  # their trainers' own wording, the autoencoder's test first
        log.info("Testing autoencoder...")
        log.info("Test set AUC: 72.91%")
        log.info("  Epoch 1/150\t Time: 1.366\t Loss: 2.28269835")
        log.info("Test set AUC: 82.96%")
    finally:
        log.removeHandler(aucs)
    assert aucs.values == pytest.approx([0.7291, 0.8296])
