"""Opening user images: EXIF orientation applied, any PIL mode converted to RGB (alpha composited on white)."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import Union

from PIL import Image, ImageOps

__all__ = ["ImageInputError", "open_image", "to_rgb"]

log = logging.getLogger(__name__)

ImageSource = Union[str, os.PathLike, bytes, Image.Image]


class ImageInputError(ValueError):
    """The input is not an image we can classify; the message is meant for the user."""


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB. Transparent pixels become white (not black, which is what a plain convert gives)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit / 32-bit greyscale: scale to 8 bits by the value range, not by clipping at 255.
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        lo, hi = float(array.min()), float(array.max())
        scaled = np.zeros_like(array) if hi <= lo else (array - lo) / (hi - lo) * 255.0
        return Image.fromarray(scaled.round().astype("uint8"), mode="L").convert("RGB")
    return image.convert("RGB")


def open_image(source: ImageSource) -> Image.Image:
    """Open an image file (path, bytes or PIL image) as an upright RGB PIL image."""
    if isinstance(source, Image.Image):
        image = source
    else:
        try:
            fp = io.BytesIO(source) if isinstance(source, bytes) else Path(source)
            image = Image.open(fp)
            image.load()
        except Exception as exc:
            raise ImageInputError(f"this file is not an image we can read ({exc.__class__.__name__})") from exc
    image = ImageOps.exif_transpose(image)
    return to_rgb(image)
