"""``python -m benchmarks.perf`` (from a clone): the course-loop throughput benchmark."""

from benchmarks.perf.cli import perf_command

perf_command(prog_name="python -m benchmarks.perf")
