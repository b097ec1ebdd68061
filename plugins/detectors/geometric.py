"""Geometric transformations of image batches, applied on the batch's device without a loop
over images: each image gets its own transformation in a fixed number of tensor operations.

A transformation is (flip, vertical shift, horizontal shift, quarter turns), applied in that
order as in Golan & El-Yaniv's ``AffineTransformation``. Shifts move the content by ``shift``
pixels and fill the uncovered border by reflection (their Keras ``fill_mode='reflect'``;
torch's reflection leaves out the edge pixel, theirs repeats it).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F

# Golan & El-Yaniv 2018: 2 flips x 3 x 3 translations x 4 rotations. Hendrycks et al. 2019
# predict rotations, optionally with translations (here as one joint classification).
TRANSFORM_SETS = {
    "flip_translate_rotate": ((False, True), (0, -1, 1), (0, -1, 1), range(4)),
    "translate_rotate": ((False,), (0, -1, 1), (0, -1, 1), range(4)),
    "rotate": ((False,), (0,), (0,), range(4)),
}


def transform_table(kind: str) -> torch.Tensor:
    """K x 4 integers (flip, dy, dx in units of the shift, quarter turns), in Golan's order."""
    if kind not in TRANSFORM_SETS:
        raise ValueError(f"transforms must be one of {sorted(TRANSFORM_SETS)}, not {kind!r}")
    return torch.tensor(list(itertools.product(*TRANSFORM_SETS[kind])), dtype=torch.long)


def _select(masks: torch.Tensor, options: list[torch.Tensor]) -> torch.Tensor:
    """Per image, the option whose mask is set (exactly one is, per image)."""
    out = options[0]
    for mask, option in zip(masks[1:], options[1:], strict=False):
        out = torch.where(mask.view(-1, 1, 1, 1), option, out)
    return out


def apply_transforms(x: torch.Tensor, rows: torch.Tensor, shift: int) -> torch.Tensor:
    """``x`` (N x C x H x W, H == W) with image i transformed by ``rows[i]`` of a table."""
    flip, dy, dx, turns = rows.to(x.device).unbind(dim=1)
    x = torch.where(flip.bool().view(-1, 1, 1, 1), x.flip(-1), x)
    if shift and bool((dy != 0).any() or (dx != 0).any()):
        h, w = x.shape[-2:]
        padded = F.pad(x, (shift, shift, shift, shift), mode="reflect")
        offsets = list(itertools.product((0, -1, 1), repeat=2))
        crops = [padded[..., shift + a * shift : shift + a * shift + h,
                        shift + b * shift : shift + b * shift + w] for a, b in offsets]  # fmt: skip
        masks = torch.stack([(dy == a) & (dx == b) for a, b in offsets])
        x = _select(masks, crops)
    if bool((turns != 0).any()):
        masks = torch.stack([turns == k for k in range(4)])
        x = _select(masks, [torch.rot90(x, k, dims=(-2, -1)) for k in range(4)])
    return x
