"""A test-only plugin whose detector kills its own process during fit, the way a segfaulting
extension or an OOM kill would. Loaded with ``BENCH_EXTRA_PLUGINS=tests.ray_crash_plugin``; every
attempt appends a line to the ``attempts_file`` hyperparameter so a test can count retries."""

from __future__ import annotations

import os

from bench import hookimpl
from bench.detector import Detector


class ProcessKiller(Detector):
    name = "process_killer"
    produces = ("reconstruction",)
    default_scorer = "mse"
    defaults = {"attempts_file": ""}

    def fit(self, train):
        with open(self.hparams["attempts_file"], "a") as attempts:
            attempts.write(f"{os.getpid()}\n")
        os._exit(1)


@hookimpl
def bench_register_detectors(register):
    register(ProcessKiller)
