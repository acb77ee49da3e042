"""What "absent" means for a photo: the baselines of Integrated Gradients, Occlusion and GradientSHAP, and the
blurred copy that the insertion curve starts from."""

from __future__ import annotations

import torch
import torchvision.transforms.functional as TF
from torch import Tensor

from ..transforms import PREPROCESS, Preprocess
from .errors import AttributionError
from .settings import BASELINES

__all__ = ["baseline", "blur"]


def blur(x: Tensor) -> Tensor:
    """A strongly blurred copy (the insertion curve's starting image and the "blur" baseline)."""
    size = max(3, (min(x.shape[-2:]) // 7) | 1)  # odd kernel, ~1/7 of the image (31 px at 224)
    return TF.gaussian_blur(x, kernel_size=[size, size], sigma=[size / 3.0, size / 3.0])


def baseline(x: Tensor, kind: str, spec: Preprocess = PREPROCESS) -> Tensor:
    """The ``kind`` baseline for a normalized input ``x`` (N x 3 x H x W): black pixels, the ImageNet mean colour
    (0 after normalization) or a blurred copy."""
    if kind == "mean":
        return torch.zeros_like(x)
    if kind == "blur":
        return blur(x)
    if kind != "black":
        raise AttributionError("errors.unknown_baseline", value=kind, choices=", ".join(BASELINES))
    mean = torch.tensor(spec.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return ((0.0 - mean) / std).expand_as(x).clone()  # black pixels, normalized
