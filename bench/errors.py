"""The base of every error a user can cause and fix (bad data, a typo, a missing install).

The CLI prints these as one line; anything else is a bug and keeps its traceback.
"""


class BenchError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class SetupError(BenchError, RuntimeError):
    """The environment cannot do what was asked (no CUDA device, a plugin that will not load)."""


class PlanError(BenchError, ValueError):
    """The requested run cannot be built (unknown name, incompatible scorer, bad option)."""
