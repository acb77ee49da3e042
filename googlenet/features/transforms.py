"""Random transformations applied to the image at every step: padding, jitter, scale and rotation.

A unit that responds to a pattern should respond to it a few pixels further, a little larger or slightly turned;
an image that only works at one exact alignment is an adversarial pattern, not a picture of the feature. Lucid's
"standard transforms" (pad 12, jitter 8, scale 0.9..1.1, rotate -10..10 degrees, jitter 4) are applied here as one
affine resampling per image (cheaper than four). The random draws come from the caller's generator: the same seed
gives the same sequence of transformations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["Transforms"]


@dataclass(frozen=True)
class Transforms:
    """How far each random transformation may go (Lucid's standard transforms)."""

    pad: int = 12  # pixels of grey around the image, so that shifts and turns do not wrap or crop the content
    jitter: int = 12  # pixels of shift, at most (8 then 4 in Lucid, composed)
    scale: float = 0.1  # +- relative scale
    degrees: float = 10.0  # +- rotation

    def __call__(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """N x 3 x S x S in [0, 1] -> N x 3 x (S + 2 pad) x (S + 2 pad), each image moved at random."""
        n = images.shape[0]
        padded = F.pad(images, [self.pad] * 4, value=0.5)  # N x 3 x P x P
        size = padded.shape[-1]
        draws = torch.rand(n, 4, generator=generator)  # on the CPU: the same numbers on every device
        angle = (draws[:, 0] * 2 - 1) * math.radians(self.degrees)
        scale = 1 + (draws[:, 1] * 2 - 1) * self.scale
        shift = (draws[:, 2:] * 2 - 1) * (2 * self.jitter / size)  # in affine_grid's [-1, 1] units
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1)  # N x 2 x 3
        theta = theta.to(device=images.device, dtype=images.dtype)
        grid = F.affine_grid(theta, list(padded.shape), align_corners=False)  # N x P x P x 2
        return F.grid_sample(padded, grid, mode="bilinear", padding_mode="border", align_corners=False)
