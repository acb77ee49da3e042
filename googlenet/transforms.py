"""Preprocessing, derived from the weights' own ``transforms()`` (resize 256, centre-crop 224, ImageNet mean/std).

We split torchvision's ``ImageClassification`` preset into its geometric part (PIL -> the crop the network sees,
which the app shows) and its numeric part (crop -> normalized tensor), using the preset's own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image
from torch import Tensor
from torchvision.models import GoogLeNet_Weights

__all__ = ["PREPROCESS", "Preprocess", "MAX_ASPECT", "limit_aspect", "center_crop", "to_tensor", "preprocess",
           "denormalize", "array_to_tensor"]


@dataclass(frozen=True)
class Preprocess:
    """Parameters of the official preprocessing, read from ``GoogLeNet_Weights.IMAGENET1K_V1.transforms()``."""

    resize_size: int
    crop_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: TF.InterpolationMode
    antialias: bool

    @classmethod
    def from_weights(cls, weights: GoogLeNet_Weights = GoogLeNet_Weights.IMAGENET1K_V1) -> "Preprocess":
        preset = weights.transforms()
        return cls(
            resize_size=int(preset.resize_size[0]),
            crop_size=int(preset.crop_size[0]),
            mean=tuple(float(m) for m in preset.mean),
            std=tuple(float(s) for s in preset.std),
            interpolation=preset.interpolation,
            antialias=bool(preset.antialias) if preset.antialias is not None else True,
        )


PREPROCESS = Preprocess.from_weights()


#: Long side / short side beyond which :func:`center_crop` first cuts the long side down (see there).
MAX_ASPECT: float = 4.0


def limit_aspect(image: Image.Image, max_aspect: float = MAX_ASPECT) -> Image.Image:
    """Cut the long side of a very elongated image to ``max_aspect`` x the short side, keeping the centre.

    Why: resizing a 4000x8 strip so that its short side is 256 would make it 128000x256 (98 MB) only to keep its
    central 224x224. The final crop spans 224/256 of the short side, so a centred 4:1 window contains it with a wide
    margin (far wider than the resampling filter's reach): the network sees the same pixels, up to the rounding of
    the resampling grid, at a bounded cost.
    """
    width, height = image.size
    short, long = min(width, height), max(width, height)
    limit = max(1, int(round(max_aspect * short)))
    if long <= limit:
        return image
    offset = (long - limit) // 2
    box = (offset, 0, offset + limit, height) if width > height else (0, offset, width, offset + limit)
    return image.crop(box)


def center_crop(image: Image.Image, spec: Preprocess = PREPROCESS) -> Image.Image:
    """Resize the short side to 256 and cut the central 224x224: exactly the pixels the network sees."""
    image = limit_aspect(image)  # bounded memory for extreme aspect ratios (e.g. 4000x8)
    image = TF.resize(image, [spec.resize_size], interpolation=spec.interpolation, antialias=spec.antialias)
    return TF.center_crop(image, [spec.crop_size])


def to_tensor(crop: Image.Image, spec: Preprocess = PREPROCESS) -> Tensor:
    """An RGB PIL crop -> normalized 1 x 3 x H x W float tensor."""
    x = TF.pil_to_tensor(crop.convert("RGB"))  # 3 x H x W, uint8
    x = TF.convert_image_dtype(x, torch.float)  # 3 x H x W in [0, 1]
    x = TF.normalize(x, list(spec.mean), list(spec.std))
    return x.unsqueeze(0)  # 1 x 3 x H x W


def preprocess(image: Image.Image, spec: Preprocess = PREPROCESS) -> tuple[Image.Image, Tensor]:
    """The crop shown to the user and the tensor given to the network (1 x 3 x 224 x 224)."""
    crop = center_crop(image, spec)
    return crop, to_tensor(crop, spec)


def array_to_tensor(rgb: np.ndarray, spec: Preprocess = PREPROCESS) -> Tensor:
    """An H x W x 3 uint8 RGB array (a camera frame) -> the normalized 1 x 3 x 224 x 224 tensor, in torch alone.

    The same steps as :func:`preprocess` (the aspect limit, short side to 256 with an antialiased bilinear filter,
    the central 224x224, mean/std) without building the crop as a PIL image: the live view shows no crop. Equal to
    :func:`preprocess` within one uint8 rounding step (PIL rounds its resized pixels to integers; torch does not).
    For arrays that are not PIL images already. Not faster than the PIL path on a 640x480 frame (5.8 ms against
    2.1 ms, 2 threads, bench/sections/live.py), so a decoded photo goes through :func:`preprocess`.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.shape} {rgb.dtype}")
    height, width = rgb.shape[:2]
    short, long = min(height, width), max(height, width)
    limit = max(1, int(round(MAX_ASPECT * short)))
    if long > limit:  # as limit_aspect: keep the centred 4:1 window
        offset = (long - limit) // 2
        rgb = rgb[:, offset:offset + limit] if width > height else rgb[offset:offset + limit]
        height, width = rgb.shape[:2]
    rgb = np.require(rgb, requirements=["C", "W"])  # torch wants a writable array (PIL's are read-only)
    x = torch.from_numpy(rgb).permute(2, 0, 1).unsqueeze(0).float()  # 1 x 3 x H x W, 0..255
    # torchvision's resize rule: the short side becomes resize_size, the long side keeps the ratio (truncated)
    new_long = int(spec.resize_size * max(height, width) / min(height, width))
    size = (spec.resize_size, new_long) if height <= width else (new_long, spec.resize_size)
    x = F.interpolate(x, size=size, mode=spec.interpolation.value, antialias=spec.antialias, align_corners=False)
    x = TF.center_crop(x, [spec.crop_size])  # 1 x 3 x 224 x 224
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std).view(1, 3, 1, 1) * 255.0
    return (x - mean) / std


def denormalize(x: Tensor, spec: Preprocess = PREPROCESS) -> Tensor:
    """Undo the normalization: N x 3 x H x W -> values in [0, 1] (for display)."""
    mean = torch.tensor(spec.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * std + mean).clamp(0, 1)
