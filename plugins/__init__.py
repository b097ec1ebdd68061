"""Built-in anomaly-bench plugins, each registered through the ``bench`` entry-point group."""
