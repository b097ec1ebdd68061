"""``bench perf``: training throughput of the course's loop against the harness's, per detector.

The harness claims its batched, on-device data path is much faster than the per-sample
``DataLoader`` loop the course taught. This package measures that claim on equal terms (same
model, seed, data, batch size and epochs) and estimates how far either is from the device's
compute floor, so a regression in ``bench/torch_detector.py`` or ``bench/images.py`` shows up
as a number rather than a feeling.
"""
