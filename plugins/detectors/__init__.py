"""Built-in detectors: one module per detector."""
