"""Opening user images safely: every decode in the app goes through :func:`load_image` / :func:`open_image`.

What a user uploads is untrusted. The order of operations below is what keeps memory and time bounded:

1. sniff the first bytes for formats we recognise but do not decode (SVG, PDF; HEIC/AVIF when this installation
   lacks their decoder) -> a clear message;
2. the header only is parsed, restricted to the formats we support (smaller attack surface): JPEG by its own plugin
   (so that Pillow's global bomb guard, which would refuse a 180 MP camera JPEG before ``draft`` can help, stays as
   it is for every other format), everything else by ``Image.open``;
3. the declared size is checked against :class:`ImageLimits` *before* any pixel is decoded: the pixel count (a
   20000x20000 PNG can be 50 KB on disk and 1.2 GB in memory), and the memory the decode itself would hold
   (:func:`decode_bytes`: measured per format; a progressive JPEG keeps all its DCT coefficients);
4. large JPEGs are decoded at 1/2, 1/4 or 1/8 scale (``draft``: the DCT does the downscaling for free, a 120 MP
   baseline JPEG decodes in about 8 MB), and other large images are box-reduced (``reduce``) right after decoding,
   so what flows on is at most a few megapixels;
5. EXIF orientation is applied (a phone photo taken sideways is classified upright);
6. any mode (1-bit, grayscale, palette, 16-bit, CMYK, RGBA, ...) becomes 8-bit RGB, transparency on white.

HEIC/HEIF (the iPhone's default) is decoded by pi-heif (libheif + libde265, LGPL; registered as a Pillow plugin the
first time an image is opened), AVIF by Pillow's own plugin (libavif).

Problems the user can fix raise :class:`ImageInputError` with a ``key`` into the locale files and the values its
message needs (:mod:`googlenet.messages`), so the app can say it in the user's language; ``str(exc)`` is the English
text (CLI, logs).
Things worth telling the user about an image that *did* load (animated: first frame only; tiny; very elongated)
come back as :class:`ImageNotice` objects in the same key + values form.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError, features

from .jpeg_header import coefficients_per_pixel, jpeg_layout, min_scan_bytes, open_jpeg
from .messages import KeyedError, Message
from .transforms import MAX_ASPECT  # an image longer than this ratio gets a notice: the network sees its middle

__all__ = [
    "ImageInputError",
    "ImageSettingError",
    "ImageNotice",
    "ImageLimits",
    "LoadedImage",
    "ImageSource",
    "WORKING_SHORT_SIDE",
    "MAX_ASPECT",
    "MIN_SIZE",
    "supported_formats",
    "decode_bytes",
    "load_image",
    "open_image",
    "to_rgb",
]

log = logging.getLogger(__name__)

ImageSource = Union[str, os.PathLike, bytes, Image.Image]

_MB = 2**20


class ImageSettingError(KeyedError, ValueError):
    """An image limit that is not a positive whole number (an operator's setting)."""


@dataclass(frozen=True)
class ImageLimits:
    """What an upload may declare in its header, checked before any pixel is decoded. The one owner of these
    numbers (the web app builds them from its settings; see docs/limits-and-safety.md).

    - ``max_pixels``: any format. 100 MP, e.g. 12247x8165.
    - ``max_jpeg_pixels``: baseline JPEGs, the format of camera photos: decoded at 1/8 scale (``draft``), so even
      200 MP (17320x11547) holds about 13 MB while decoding.
    - ``max_decode_mb``: the memory a full decode may hold at its peak (:func:`decode_bytes`): 512 MB lets a
      100 MP PNG through (4 bytes per pixel in Pillow), a 48 MP iPhone HEIC (7.5), a 55 MP AVIF (9.5) and a 32 MP
      WebP (16.5), and bounds the worst case of one request.
    """

    max_pixels: int = 100_000_000
    max_jpeg_pixels: int = 200_000_000
    max_decode_mb: int = 512

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_jpeg_pixels", "max_decode_mb"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ImageSettingError("errors.setting_not_whole", name=name, value=value)
            if value <= 0:
                raise ImageSettingError("errors.setting_not_positive", name=name, value=value)

    @property
    def max_decode_bytes(self) -> int:
        return self.max_decode_mb * _MB


DEFAULT_LIMITS = ImageLimits()

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

#: Pillow format plugins we let parse uploads (``Image.open(formats=...)``), in the order they are tried. Many
#: phone/camera JPEGs come back as "MPO" (JPEG + extra preview frames): the JPEG plugin opens those too. AVIF comes
#: before HEIF: both use the same container ("mif1" brands), and Pillow's AVIF plugin hands on what is not AV1.
_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "AVIF", "HEIF", "BMP", "DIB", "TIFF", "GIF", "ICO")

#: Peak bytes per pixel of a full decode for formats whose decoders hold more than the decoded image, measured with
#: Pillow 12.3 and pi-heif 1.4 on a 24 MP photo (peak RSS growth / pixels): WebP 16.3, AVIF 9.3, HEIF 7.4.
_DECODE_BYTES_PER_PIXEL: Mapping[str, float] = {"WEBP": 16.5, "AVIF": 9.5, "HEIF": 7.5}
_PILLOW_OVERHEAD = 1.06  # measured: a 24 MP RGB PNG or TIFF peaks at 4.23 bytes per pixel (Pillow stores RGB in 4)

# Modes that Image.reduce() accepts directly; the others are converted first (to the mode in _REDUCE_AS).
_REDUCIBLE_MODES = frozenset({"L", "LA", "La", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
                              "I", "F"})

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

_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1")
_AVIF_BRANDS = (b"avif", b"avis")


@functools.cache
def _heif_available() -> bool:
    """Register pi-heif's HEIF decoder with Pillow (once, on first use: importing this module changes nothing)."""
    try:
        import pi_heif
    except ImportError:
        log.warning("pi-heif is not installed: HEIC/HEIF photos cannot be decoded")
        return False
    pi_heif.register_heif_opener()
    return True


def _avif_available() -> bool:
    return bool(features.check("avif"))


def supported_formats() -> tuple[str, ...]:
    """The Pillow plugins that may parse an upload here (HEIF and AVIF when their decoders are installed)."""
    Image.init()  # every plugin registered, so that the check below is about this installation
    usable = {"HEIF": _heif_available(), "AVIF": _avif_available()}
    return tuple(f for f in _FORMATS if usable.get(f, True) and f in Image.OPEN)


def format_list_text() -> str:
    """The formats as a user reads them (in error messages)."""
    names = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "AVIF": "AVIF", "HEIF": "HEIC/HEIF", "BMP": "BMP",
             "TIFF": "TIFF", "GIF": "GIF", "ICO": "ICO"}
    return ", ".join(names[f] for f in supported_formats() if f in names)


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


def _container_brand(head: bytes) -> Optional[str]:
    """"heif" or "avif" for an ISO base media file (HEIC, AVIF), from its ftyp box; None otherwise."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "avif"
        if brand in _HEIF_BRANDS:
            return "heif"
    return None


def _sniff(head: bytes) -> Optional[str]:
    """The error key for well-known formats we do not decode here, from the file's first bytes."""
    brand = _container_brand(head)
    if brand == "avif" and not _avif_available():
        return "errors.avif"
    if brand == "heif" and not _heif_available():
        return "errors.heic"
    if head.startswith(b"%PDF"):
        return "errors.pdf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<svg") or (text.startswith((b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head.lower()):
        return "errors.svg"
    return None


def _megapixels(pixels: float) -> str:
    return f"{pixels / 1e6:,.1f}"


def _too_many_pixels(width: int, height: int, limit: int) -> ImageInputError:
    return ImageInputError("errors.too_many_pixels", width=width, height=height,
                           megapixels=_megapixels(width * height), limit=_megapixels(limit))


def _is_jpeg(fmt: str) -> bool:
    return fmt in ("JPEG", "MPO")


def _mode_bytes(mode: str) -> int:
    """Bytes per pixel of a Pillow image in ``mode`` (Pillow keeps 2- to 4-band images in 4 bytes per pixel)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def decode_bytes(image: ImageFile.ImageFile, *, buffered_jpeg: Optional[tuple[int, int]] = None) -> int:
    """The memory a decode of ``image`` (header parsed, ``draft`` applied) holds at its peak, in bytes.

    ``image.size`` is the size that will be decoded (after a JPEG ``draft``). ``buffered_jpeg``: the declared size
    of a JPEG that libjpeg decodes in buffered mode (progressive, see :func:`.jpeg_header.jpeg_layout`): it also holds all its
    DCT coefficients, 2 bytes each (measured: a 120 MP progressive 4:2:0 JPEG peaks at 351 MB whatever the draft
    scale, a baseline one at 8 MB). Modes that ``reduce`` cannot take are converted first: a second copy.
    """
    width, height = image.size
    pixels = width * height
    fmt = image.format or ""
    per_pixel = _DECODE_BYTES_PER_PIXEL.get(fmt, _mode_bytes(image.mode) * _PILLOW_OVERHEAD)
    if image.mode not in _REDUCIBLE_MODES and min(width, height) >= 2 * WORKING_SHORT_SIDE:
        per_pixel += 4  # the converted copy _reduce makes
    total = pixels * per_pixel
    if buffered_jpeg is not None:
        total += buffered_jpeg[0] * buffered_jpeg[1] * coefficients_per_pixel(image) * 2
    return int(total)


def _open_header(fp: Union[Path, io.BytesIO], head: bytes, limits: ImageLimits) -> ImageFile.ImageFile:
    """The header only, with clear errors; Pillow's own bomb guard stays on (except for JPEG, see
    :func:`_open_jpeg`) as a second line."""
    formats = supported_formats()
    try:
        if head.startswith(b"\xff\xd8\xff"):
            return open_jpeg(fp)
        with warnings.catch_warnings():
            # Pillow warns above 89 MP; our own limits are checked right after this, so the warning is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(fp, formats=formats)
    except Image.DecompressionBombError as exc:  # declared size > 2 x Pillow's own limit (178 MP)
        size = _declared_size(fp, head, formats)
        # only reached above Pillow's own refusal (2 x Image.MAX_IMAGE_PIXELS = 179 MP), which stays for non-JPEGs
        limit = min(limits.max_pixels, 2 * (Image.MAX_IMAGE_PIXELS or limits.max_pixels))
        if size is not None:
            raise _too_many_pixels(size[0], size[1], limit) from exc
        match = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(match.group(1)) if match else 2 * (Image.MAX_IMAGE_PIXELS or limit)
        raise ImageInputError("errors.too_many_pixels_count", megapixels=_megapixels(pixels),
                              limit=_megapixels(limit)) from exc
    except UnidentifiedImageError as exc:
        if _container_brand(head):  # a HEIC/AVIF container that no decoder could make sense of
            raise ImageInputError("errors.corrupt", format=_guess_format(head)) from exc
        # Formats Pillow knows but we do not accept (PSD, EPS, ...) vs. things that are not images at all.
        found = _any_format(fp)
        if found:
            raise ImageInputError("errors.unsupported_format", found=found, formats=format_list_text()) from exc
        raise ImageInputError("errors.not_an_image", formats=format_list_text()) from exc
    except Exception as exc:  # noqa: BLE001 - a malformed header can raise anything (OSError, SyntaxError, struct...)
        log.warning("unreadable image header (%s: %s)", exc.__class__.__name__, exc)
        raise ImageInputError("errors.corrupt", format=_guess_format(head)) from exc


def _declared_size(fp: Union[Path, io.BytesIO], head: bytes,
                   formats: tuple[str, ...]) -> Optional[tuple[int, int]]:
    """Width and height from the header alone, for the message when Pillow's open refused the size.

    ``Image.open`` raises before handing back the image, so we run the format plugin's header parser ourselves
    (what ``Image.open`` does internally, minus its size check). Nothing is decoded.
    """
    for name in formats:
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
    brand = _container_brand(head)
    if brand:
        return "AVIF" if brand == "avif" else "HEIC"
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


def _reducible(image: Image.Image) -> Image.Image:
    """``image`` in a mode ``reduce`` accepts, keeping what to_rgb needs (transparency, 16-bit tones)."""
    mode = image.mode
    if mode == "1":
        return image.convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode.startswith("I;16"):
        # to 0..255 now (what to_rgb does for 16-bit grayscale): "I" would later be read as an unknown range
        array = np.asarray(image.convert("I"), dtype=np.float32) / 257.0
        return Image.fromarray(array.round().clip(0, 255).astype(np.uint8), mode="L")
    return to_rgb(image)


def _reduce(image: Image.Image) -> Image.Image:
    """Box-reduce by an integer factor so the short side stays >= WORKING_SHORT_SIDE (no-op for small images)."""
    factor = min(image.size) // WORKING_SHORT_SIDE
    if factor < 2:
        return image
    if image.mode not in _REDUCIBLE_MODES:
        image = _reducible(image)
    return image.reduce(factor)


def _check_declared(fp: Union[Path, io.BytesIO], image: ImageFile.ImageFile, limits: ImageLimits) -> None:
    """The limits, from the header alone; for a large JPEG, also sets the ``draft`` scale it will decode at."""
    width, height = image.size
    fmt = image.format or "image"
    jpeg = _is_jpeg(fmt)
    limit = limits.max_jpeg_pixels if jpeg else limits.max_pixels
    if width * height > limit:
        raise _too_many_pixels(width, height, limit)
    buffered = False
    if jpeg:
        layout = jpeg_layout(fp, image)
        if layout.huffman_sequential and layout.scan_bytes < min_scan_bytes(image, width, height):
            # libjpeg would fill the missing blocks with grey without an error: a file that lies about its size
            log.info("JPEG declares %dx%d but has only %d bytes of image data", width, height, layout.scan_bytes)
            raise ImageInputError("errors.corrupt", format="JPEG")
        buffered = layout.buffered
        if min(width, height) >= 2 * WORKING_SHORT_SIDE:
            # Let libjpeg scale by 1/2, 1/4 or 1/8 while decoding: the smallest such size >= the request.
            scale = WORKING_SHORT_SIDE / min(width, height)
            image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
    needed = decode_bytes(image, buffered_jpeg=(width, height) if buffered else None)
    if needed > limits.max_decode_bytes:
        raise ImageInputError("errors.decode_too_large", format=fmt, width=width, height=height,
                              mb=f"{needed / _MB:,.0f}", limit=f"{limits.max_decode_mb:,}")


def _decode(fp: Union[Path, io.BytesIO], head: bytes,
            limits: ImageLimits) -> tuple[Image.Image, tuple[int, int], str, bool]:
    image = _open_header(fp, head, limits)
    width, height = image.size
    fmt = image.format or "image"
    try:
        _check_declared(fp, image, limits)  # before any pixel is decoded
    except BaseException:
        image.close()
        raise
    # cheap: looks for a second frame, decodes none. A phone's MPO carries previews, not an animation.
    animated = bool(getattr(image, "is_animated", False)) and fmt != "MPO"
    try:
        image.seek(0)  # first frame of animations / multi-page TIFFs
        image.load()
    except Image.DecompressionBombError as exc:  # e.g. a GIF frame larger than its screen
        image.close()
        raise _too_many_pixels(width, height, limits.max_pixels) from exc
    except Exception as exc:  # noqa: BLE001 - truncated / corrupt data: OSError, SyntaxError, EOFError, zlib...
        log.info("undecodable %s (%s: %s)", fmt, exc.__class__.__name__, exc)
        image.close()
        raise ImageInputError("errors.corrupt", format=_display_format(fmt)) from exc
    # Only after load(): reading a PNG's EXIF may decode it, and a failed decode must not be half-retried.
    orientation = _orientation(image)
    out = _upright(_reduce(image), orientation)
    if out is image:
        out = image.copy()  # detach from the file so its handle closes now (multi-frame files keep it open)
    image.close()
    return out, (width, height), fmt, animated


def _display_format(fmt: str) -> str:
    return {"HEIF": "HEIC", "WEBP": "WebP", "MPO": "JPEG"}.get(fmt, fmt)


def load_image(source: ImageSource, limits: ImageLimits = DEFAULT_LIMITS) -> LoadedImage:
    """Open a path, bytes or PIL image as an upright 8-bit RGB image, safely (see the module docstring), within
    ``limits``.

    Raises :class:`ImageInputError` (a keyed message) for anything the user should fix.
    """
    notices: list[ImageNotice] = []
    if isinstance(source, Image.Image):
        image, original_size, fmt, animated = source, source.size, None, False
        if source.width * source.height > limits.max_pixels:
            raise _too_many_pixels(source.width, source.height, limits.max_pixels)
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
        image, original_size, fmt, animated = _decode(fp, data_head, limits)
    if animated:
        notices.append(ImageNotice("errors.notice_animated"))
    width, height = original_size
    if width < MIN_SIZE[0] or height < MIN_SIZE[1]:
        notices.append(ImageNotice("errors.notice_tiny", {"width": width, "height": height,
                                                           "min_w": MIN_SIZE[0], "min_h": MIN_SIZE[1]}))
    if max(width, height) > MAX_ASPECT * min(width, height):
        notices.append(ImageNotice("errors.notice_elongated", {"width": width, "height": height}))
    return LoadedImage(image=to_rgb(image), original_size=original_size, format=fmt, notices=tuple(notices))


def open_image(source: ImageSource, limits: ImageLimits = DEFAULT_LIMITS) -> Image.Image:
    """Open an image file (path, bytes or PIL image) as an upright RGB PIL image (see :func:`load_image`)."""
    return load_image(source, limits).image
