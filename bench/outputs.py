"""The names of detector outputs that built-in scorers and the harness read.

A detector lists the outputs it returns in ``produces``; a scorer lists those it ``needs``.
Naming them here, once, keeps a typo from silently making a scorer incompatible. Plugins may
produce outputs of any other name for their own scorers.
"""

RECONSTRUCTION = "reconstruction"  # the input as the model rebuilds it, same shape as the input
MU, LOGVAR = "mu", "logvar"  # a VAE's posterior mean and log-variance
LOGIT = "logit"  # a classifier's logit for "anomalous"
LATENT, CENTER = "latent", "center"  # an embedding and the centre it is compared with
SCORE = "score"  # the detector's own anomaly score, higher = more anomalous
