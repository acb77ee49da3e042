"""Opening user images safely: every decode in the app goes through :func:`load_image` / :func:`open_image`.

What a user uploads is untrusted. The order of operations below is what keeps memory and time bounded:

1. sniff the first bytes for formats we recognise but do not decode (SVG, HEIC/HEIF, AVIF, PDF) -> a clear message;
2. ``Image.open`` reads only the header, restricted to the formats we support (smaller attack surface);
3. the declared pixel count is checked against :data:`MAX_PIXELS` *before* any pixel is decoded (a 20000x20000 PNG
   can be 50 KB on disk and 1.2 GB in memory);
4. large JPEGs are decoded at 1/2, 1/4 or 1/8 scale (``draft``: the DCT does the downscaling for free), and other
   large images are box-reduced (``reduce``) right after decoding, so what flows on is at most a few megapixels;
5. EXIF orientation is applied (a phone photo taken sideways is classified upright);
6. any mode (1-bit, grayscale, palette, 16-bit, CMYK, RGBA, ...) becomes 8-bit RGB, transparency on white.

Problems the user can fix raise :class:`ImageInputError` with a ``key`` into the locale files and the values its
message needs (:mod:`googlenet.messages`), so the app can say it in the user's language; ``str(exc)`` is the English
text (CLI, logs).
Things worth telling the user about an image that *did* load (animated: first frame only; tiny; very elongated)
come back as :class:`ImageNotice` objects in the same key + values form.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from .messages import KeyedError, Message
from .transforms import MAX_ASPECT  # an image longer than this ratio gets a notice: the network sees its middle

__all__ = [
    "ImageInputError",
    "ImageNotice",
    "LoadedImage",
    "ImageSource",
    "MAX_PIXELS",
    "WORKING_SHORT_SIDE",
    "MAX_ASPECT",
    "MIN_SIZE",
    "SUPPORTED_FORMATS",
    "load_image",
    "open_image",
    "to_rgb",
]

log = logging.getLogger(__name__)

ImageSource = Union[str, os.PathLike, bytes, Image.Image]


class ImageSettingError(KeyedError, ValueError):
    """An environment setting of the image limits is not a positive whole number."""


def _int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImageSettingError("errors.setting_not_whole", name=name, value=raw) from None
    if value <= 0:
        raise ImageSettingError("errors.setting_not_positive", name=name, value=value)
    return value


#: Largest declared image (width x height) we decode: 50 megapixels, e.g. 8660x5773. Checked from the header.
#: A 50 MP RGBA PNG decodes to 200 MB, which bounds the worst case per request. ``GOOGLENET_MAX_PIXELS`` overrides.
MAX_PIXELS: int = _int_from_env("GOOGLENET_MAX_PIXELS", 50_000_000)

#: Images whose short side is at least twice this are reduced early (JPEG draft / box reduce) to a short side of at
#: least this many pixels. Preprocessing resizes the short side to 256 anyway, so 512 keeps every pixel the network
#: can use (a 2x margin for the antialiased resize) while keeping later steps cheap.
WORKING_SHORT_SIDE: int = 512


def _min_size() -> tuple[int, int]:
    """The network's smallest input, from the weights' metadata (torchvision: (15, 15))."""
    from torchvision.models import GoogLeNet_Weights

    size = GoogLeNet_Weights.IMAGENET1K_V1.meta.get("min_size", (15, 15))
    return int(size[0]), int(size[1])


#: Smaller images still work (preprocessing enlarges them to 256 pixels) but we say there is almost nothing to see.
MIN_SIZE: tuple[int, int] = _min_size()

#: Pillow format plugins we let parse uploads (``Image.open(formats=...)``). Many phone/camera JPEGs come back as
#: "MPO" (JPEG + extra preview frames): the JPEG plugin opens those too.
SUPPORTED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "DIB", "TIFF", "GIF", "ICO")
FORMAT_LIST_TEXT = "JPEG, PNG, WebP, BMP, TIFF, GIF, ICO"

# Modes that Image.reduce() accepts directly; others (1, P, I;16, ...) are converted to RGB first.
_REDUCIBLE_MODES = frozenset({"L", "LA", "La", "RGB", "RGBA", "RGBa", "CMYK", "YCbCr", "I", "F"})

# EXIF orientation tag (0x0112) -> the transpose that makes the image upright (as in ImageOps.exif_transpose).
_EXIF_ORIENTATION = 0x0112
_ORIENTATION_FIX: Mapping[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

class ImageInputError(KeyedError, ValueError):
    """The input is not an image we can classify. ``key``/``params`` name the message in the locale files."""


class ImageNotice(Message):
    """Something the user should know about an image that loaded fine (a key in the locale files)."""


@dataclass(frozen=True)
class LoadedImage:
    """An upright 8-bit RGB image plus what we noticed while loading it."""

    image: Image.Image
    original_size: tuple[int, int]  # (width, height) as declared by the file, before orientation and reduction
    format: Optional[str]  # Pillow's format name ("JPEG", "PNG", ...); None for in-memory images
    notices: tuple[ImageNotice, ...] = ()


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB. Transparent pixels become white (a plain convert would make them black)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode.startswith("I;16"):
        # 16-bit grayscale: map 0..65535 to 0..255 (divide by 257), faithful to the file; no contrast stretch.
        array = np.asarray(image.convert("I"), dtype=np.float32) / 257.0
        return Image.fromarray(array.round().clip(0, 255).astype(np.uint8), mode="L").convert("RGB")
    if image.mode in ("I", "F"):
        array = np.asarray(image, dtype=np.float64)
        lo, hi = float(array.min()), float(array.max())
        if image.mode == "I" and lo >= 0 and hi <= 65535:
            scaled = array / (257.0 if hi > 255 else 1.0)  # 16-bit PNGs load as "I"; 8-bit values stay as they are
        elif image.mode == "F" and lo >= 0.0 and hi <= 1.0:
            scaled = array * 255.0  # floats in [0, 1]
        else:
            scaled = np.zeros_like(array) if hi <= lo else (array - lo) / (hi - lo) * 255.0  # unknown range
        return Image.fromarray(scaled.round().clip(0, 255).astype(np.uint8), mode="L").convert("RGB")
    return image.convert("RGB")  # 1, L, P, CMYK, YCbCr, LAB, HSV


def _sniff(head: bytes) -> Optional[str]:
    """The error key for well-known formats we deliberately do not decode, from the file's first bytes."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "errors.avif"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "errors.heic"
    if head.startswith(b"%PDF"):
        return "errors.pdf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head.lower()):
        return "errors.svg"
    return None


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}"


def _check_pixels(width: int, height: int) -> None:
    pixels = width * height
    if pixels > MAX_PIXELS:
        raise ImageInputError("errors.too_many_pixels", width=width, height=height,
                              megapixels=_megapixels(pixels), limit=_megapixels(MAX_PIXELS))


def _open_header(fp: Union[Path, io.BytesIO], head: bytes) -> ImageFile.ImageFile:
    """``Image.open`` (header only) with clear errors; Pillow's own bomb guard stays on as a second line."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above 89 MP; our own, lower limit is checked right after this, so the warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp, formats=SUPPORTED_FORMATS)
    except Image.DecompressionBombError as exc:  # declared size > 2 x Pillow's own limit (178 MP)
        size = _declared_size(fp, head)
        if size is not None:
            width, height = size
            raise ImageInputError("errors.too_many_pixels", width=width, height=height,
                                  megapixels=_megapixels(width * height), limit=_megapixels(MAX_PIXELS)) from exc
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match.group(1)) if match else 2 * (Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
        raise ImageInputError("errors.too_many_pixels_count", megapixels=_megapixels(pixels),
                              limit=_megapixels(MAX_PIXELS)) from exc
    except UnidentifiedImageError as exc:
        # Formats Pillow knows but we do not accept (PSD, EPS, ...) vs. things that are not images at all.
        found = _any_format(fp)
        if found:
            raise ImageInputError("errors.unsupported_format", found=found, formats=FORMAT_LIST_TEXT) from exc
        raise ImageInputError("errors.not_an_image", formats=FORMAT_LIST_TEXT) from exc
    except Exception as exc:  # noqa: BLE001 - a malformed header can raise anything (OSError, SyntaxError, struct...)
        log.warning("unreadable image header (%s: %s)", exc.__class__.__name__, exc)
        raise ImageInputError("errors.corrupt", format=_guess_format(head)) from exc


def _declared_size(fp: Union[Path, io.BytesIO], head: bytes) -> Optional[tuple[int, int]]:
    """Width and height from the header alone, for the message when Pillow's open refused the size.

    ``Image.open`` raises before handing back the image, so we run the format plugin's header parser ourselves
    (what ``Image.open`` does internally, minus its size check). Nothing is decoded.
    """
    Image.preinit()
    for name in SUPPORTED_FORMATS:
        if name not in Image.OPEN:
            continue
        factory, accept = Image.OPEN[name]
        if accept is not None and not accept(head[:16]):
            continue
        try:
            if isinstance(fp, io.BytesIO):
                fp.seek(0)
                probe = factory(fp, "")
            else:
                probe = factory(str(fp), str(fp))
            with probe:
                return int(probe.size[0]), int(probe.size[1])
        except Exception:  # noqa: BLE001 - only used to word the message; the count is the fallback
            continue
    return None


def _any_format(fp: Union[Path, io.BytesIO]) -> Optional[str]:
    """Pillow's name for a format we do not accept (PSD, EPS, ...), from its header only; None if not an image."""
    if isinstance(fp, io.BytesIO):
        fp.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(fp) as probe:  # header only, never decoded
                return probe.format
    except Exception:  # noqa: BLE001 - any failure here just means "not an image at all"
        return None


def _guess_format(head: bytes) -> str:
    signatures = ((b"\xff\xd8", "JPEG"), (b"\x89PNG", "PNG"), (b"GIF8", "GIF"), (b"BM", "BMP"),
                  (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"\x00\x00\x01\x00", "ICO"))
    for signature, name in signatures:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return "image"


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception as exc:  # noqa: BLE001 - broken EXIF must not stop a good image; we log and use it as is
        log.warning("ignoring unreadable EXIF data: %s", exc)
        return 1


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """Apply an EXIF orientation, and drop the tags that carry it so that nobody applies it a second time."""
    fix = _ORIENTATION_FIX.get(orientation)
    if fix is None:
        return image
    upright = image.transpose(fix)
    for key in ("exif", "xmp", "XML:com.adobe.xmp"):  # Pillow reads the orientation from any of these
        upright.info.pop(key, None)
    return upright


def _reduce(image: Image.Image) -> Image.Image:
    """Box-reduce by an integer factor so the short side stays >= WORKING_SHORT_SIDE (no-op for small images)."""
    factor = min(image.size) // WORKING_SHORT_SIDE
    if factor < 2:
        return image
    if image.mode not in _REDUCIBLE_MODES:
        image = to_rgb(image)
    return image.reduce(factor)


def _decode(fp: Union[Path, io.BytesIO], head: bytes) -> tuple[Image.Image, tuple[int, int], str, bool]:
    image = _open_header(fp, head)
    width, height = image.size
    _check_pixels(width, height)  # before any pixel is decoded
    fmt = image.format or "image"
    animated = bool(getattr(image, "is_animated", False))  # cheap: looks for a second frame, decodes none
    if fmt in ("JPEG", "MPO") and min(width, height) >= 2 * WORKING_SHORT_SIDE:
        # Let libjpeg scale by 1/2, 1/4 or 1/8 while decoding: result is the smallest such size >= the request.
        scale = WORKING_SHORT_SIDE / min(width, height)
        image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        image.seek(0)  # first frame of animations / multi-page TIFFs
        image.load()
    except Image.DecompressionBombError as exc:  # e.g. a GIF frame larger than its screen
        raise ImageInputError("errors.too_many_pixels", width=width, height=height,
                              megapixels=_megapixels(width * height), limit=_megapixels(MAX_PIXELS)) from exc
    except Exception as exc:  # noqa: BLE001 - truncated / corrupt data: OSError, SyntaxError, EOFError, zlib...
        log.info("undecodable %s (%s: %s)", fmt, exc.__class__.__name__, exc)
        image.close()
        raise ImageInputError("errors.corrupt", format=fmt) from exc
    # Only after load(): reading a PNG's EXIF may decode it, and a failed decode must not be half-retried.
    orientation = _orientation(image)
    out = _upright(_reduce(image), orientation)
    if out is image:
        out = image.copy()  # detach from the file so its handle closes now (multi-frame files keep it open)
    image.close()
    return out, (width, height), fmt, animated


def load_image(source: ImageSource) -> LoadedImage:
    """Open a path, bytes or PIL image as an upright 8-bit RGB image, safely (see the module docstring).

    Raises :class:`ImageInputError` (a keyed message) for anything the user should fix.
    """
    notices: list[ImageNotice] = []
    if isinstance(source, Image.Image):
        image, original_size, fmt, animated = source, source.size, None, False
        _check_pixels(*source.size)
        image = _upright(_reduce(image), _orientation(source))
    else:
        if isinstance(source, bytes):
            data_head, fp = source[:512], io.BytesIO(source)
            if not source:
                raise ImageInputError("errors.empty_file")
        else:
            path = Path(source)
            try:
                with open(path, "rb") as handle:
                    data_head = handle.read(512)
            except FileNotFoundError as exc:
                raise ImageInputError("errors.file_gone") from exc
            if not data_head:
                raise ImageInputError("errors.empty_file")
            fp = path
        sniffed = _sniff(data_head)
        if sniffed:
            raise ImageInputError(sniffed)
        image, original_size, fmt, animated = _decode(fp, data_head)
    if animated:
        notices.append(ImageNotice("errors.notice_animated"))
    width, height = original_size
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        notices.append(ImageNotice("errors.notice_tiny", {"width": width, "height": height,
                                                           "min_w": MIN_SIZE[0], "min_h": MIN_SIZE[1]}))
    if max(width, height) > MAX_ASPECT * min(width, height):
        notices.append(ImageNotice("errors.notice_elongated", {"width": width, "height": height}))
    return LoadedImage(image=to_rgb(image), original_size=original_size, format=fmt, notices=tuple(notices))


def open_image(source: ImageSource) -> Image.Image:
    """Open an image file (path, bytes or PIL image) as an upright RGB PIL image (see :func:`load_image`)."""
    return load_image(source).image
