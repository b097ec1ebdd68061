"""anomaly-bench: a plugin-based, seeded benchmark suite for image anomaly detection.

Plugins import :data:`hookimpl` from here to implement the hooks in :mod:`bench.hookspecs`.
"""

from bench.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "__version__"]
