"""First-layer filters from a dictionary learned on training patches, as Ruff et al.'s Theano
code (github.com/lukasruff/Deep-SVDD, ``learn_dictionary``) initialises its MNIST networks.

All ``size`` x ``size`` patches of up to 500 training images (already preprocessed), each
feature standardised over the patches, then sparse dictionary learning (scikit-learn's
mini-batch version, alpha 1, batches of 10 patches) gives one unit-norm atom per filter. Their
``n_iter=1000`` meant 1000 mini-batches, so here one pass over 10000 shuffled patches with
early stopping off.

Their code reshapes the N x C x H x W images to N x H x W x C without transposing before it cuts
patches, and reshapes each atom's H x W x C values back to C x H x W: a no-op for MNIST's one
channel, a scramble for CIFAR-10's three (each "pixel" of their patches is three neighbouring
values of one channel). Mirrored here, so CIFAR-10 filters start from the same kind of atoms.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import MiniBatchDictionaryLearning

IMAGES, BATCH, STEPS = 500, 10, 1000  # the Theano code's n_sample, batch_size and n_iter


def dictionary_filters(images: torch.Tensor, filters: int, size: int) -> torch.Tensor:
    """``filters`` x C x ``size`` x ``size`` atoms learned on patches of ``images`` (N x C x H x W).

    Random choices come from torch's global generator, which the harness has seeded.
    """
    chosen = images[torch.randperm(len(images))[:IMAGES]].float().cpu()
    n, channels, height, width = chosen.shape
    theano_view = chosen.reshape(n, height, width, channels).permute(0, 3, 1, 2)
    # unfold gives each patch as C x size x size; their patches are size x size x C
    patches = F.unfold(theano_view, size).reshape(n, channels, size * size, -1)
    patches = patches.permute(0, 3, 2, 1).reshape(-1, size * size * channels)
    patches = patches[torch.randperm(len(patches))[: BATCH * STEPS]].double().numpy()
    patches = (patches - patches.mean(axis=0)) / patches.std(axis=0).clip(min=1e-12)
    learner = MiniBatchDictionaryLearning(
        n_components=filters,
        alpha=1,
        batch_size=BATCH,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        max_no_improvement=None,
        random_state=int(torch.randint(2**31 - 1, ())),
    )
    atoms = learner.fit(patches).components_.astype(np.float32)
    # Lasagne convolves (flips the filter), torch correlates: the same response needs the
    # atom flipped.
    return torch.from_numpy(atoms).reshape(filters, channels, size, size).flip(-2, -1)
