"""A corpus of hostile and odd input files, generated on the fly (nothing binary is committed).

Each :class:`Case` names a file and what must happen to it: ``error`` is the locale key of the message the user must
get (None: it must be classified), ``notices`` the notice keys the result must carry. Used by
tests/googlenet/test_images.py (straight through ``open_image``) and tests/webui/test_hostile_inputs.py (through
the app).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent.parent
PHOTO = ROOT / "assets" / "chelsea.png"  # a real photo: content with a clear "up"


@dataclass(frozen=True)
class Case:
    name: str  # file name, extension included (what a user would upload)
    data: bytes
    error: Optional[str] = None  # expected ERRORS key, or None for "classified"
    notices: frozenset[str] = field(default_factory=frozenset)
    size: Optional[tuple[int, int]] = None  # expected upright (width, height) of the opened image, when known

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        path.write_bytes(self.data)
        return path


def photo(size: tuple[int, int] = (320, 240)) -> Image.Image:
    """The real photo, resized (not square, so orientation mistakes show)."""
    with Image.open(PHOTO) as image:
        return image.convert("RGB").resize(size, Image.Resampling.BILINEAR)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    """``image`` as a file in ``fmt`` (Pillow's format names, plus "HEIF", written by pillow-heif)."""
    buffer = io.BytesIO()
    if fmt == "HEIF":
        # pillow-heif (a test dependency: it can write HEIC) used without registering its Pillow plugin, so the code
        # under test decodes with the app's own decoder (pi-heif), as it does in production.
        import pillow_heif

        pillow_heif.from_pillow(image).save(buffer, quality=options.pop("quality", 90), **options)
        return buffer.getvalue()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` zeros: about 50 KB on disk, 400 MB decoded (1.2 GB as RGB).

    Streamed through zlib row by row so that building it never holds the decoded image in memory.
    """
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
            + _png_chunk(b"IEND", b""))


def png_rgb16(width: int = 64, height: int = 48) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one), a smooth gradient."""
    ys, xs = np.mgrid[0:height, 0:width]
    rgb = np.stack([xs * 65535 // max(1, width - 1), ys * 65535 // max(1, height - 1),
                    np.full_like(xs, 30000)], axis=-1).astype(">u2")
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(raw))
            + _png_chunk(b"IEND", b""))


def jpeg_with_size(width: int, height: int) -> bytes:
    """A tiny valid JPEG whose frame header (SOF0) is patched to declare ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (16, 16), (120, 90, 60)), "JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def corrupt_png() -> bytes:
    """A PNG whose compressed pixel data is overwritten with garbage (the header is fine)."""
    data = bytearray(encode(photo((64, 64)), "PNG"))
    idat = data.find(b"IDAT")
    for i in range(idat + 20, min(len(data) - 20, idat + 400)):
        data[i] = (data[i] * 7 + 13) % 256
    return bytes(data)


def exif_rotated(fmt: str = "JPEG") -> bytes:
    """The photo stored sideways with EXIF orientation 6 ("rotate 90 degrees clockwise to view"), as phones do."""
    upright = photo()
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # 90 degrees counter-clockwise: what the sensor wrote
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, fmt, exif=exif.tobytes())


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (64, 48), color) for color in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
    frames[0] = photo((64, 48))
    return encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def rgba_transparent() -> bytes:
    image = photo((80, 60)).convert("RGBA")
    alpha = Image.new("L", image.size, 255)
    alpha.paste(0, (0, 0, 40, 60))  # left half fully transparent
    image.putalpha(alpha)
    return encode(image, "PNG")


def palette_transparent() -> bytes:
    image = photo((80, 60)).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    return encode(image, "PNG", transparency=0)


def gray16() -> bytes:
    array = (np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16)
    return encode(Image.fromarray(array, mode="I;16"), "PNG")


SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40"/></svg>
"""
BROKEN_HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200  # the container's header only


def build_cases() -> list[Case]:
    """Every case (at least 20). Cheap to build (the largest, the bomb, takes about a second)."""
    small = photo()
    animated_notice = frozenset({"errors.notice_animated"})
    cases: list[Callable[[], Case]] = [
        lambda: Case("photo.jpg", encode(small, "JPEG", quality=90), size=(320, 240)),
        lambda: Case("photo.png", encode(small, "PNG"), size=(320, 240)),
        lambda: Case("photo.webp", encode(small, "WEBP"), size=(320, 240)),
        lambda: Case("photo.bmp", encode(small, "BMP"), size=(320, 240)),
        lambda: Case("photo.tiff", encode(small, "TIFF"), size=(320, 240)),
        lambda: Case("icon.ico", encode(photo((64, 64)), "ICO", sizes=[(64, 64)]), size=(64, 64)),
        lambda: Case("animated.gif", animated("GIF"), notices=animated_notice, size=(64, 48)),
        lambda: Case("animated.webp", animated("WEBP"), notices=animated_notice, size=(64, 48)),
        lambda: Case("pages.tiff", animated("TIFF"), notices=animated_notice, size=(64, 48)),
        lambda: Case("gray16.png", gray16(), size=(64, 48)),
        lambda: Case("rgb16.png", png_rgb16(), size=(64, 48)),
        lambda: Case("bilevel.png", encode(small.convert("1"), "PNG"), size=(320, 240)),
        lambda: Case("gray.jpg", encode(small.convert("L"), "JPEG"), size=(320, 240)),
        lambda: Case("palette.png", palette_transparent(), size=(80, 60)),
        lambda: Case("cmyk.jpg", encode(small.convert("CMYK"), "JPEG"), size=(320, 240)),
        lambda: Case("rgba.png", rgba_transparent(), size=(80, 60)),
        lambda: Case("la.png", encode(small.convert("LA"), "PNG"), size=(320, 240)),
        lambda: Case("rotated.jpg", exif_rotated("JPEG"), size=(320, 240)),
        lambda: Case("pixel.png", encode(Image.new("RGB", (1, 1), (200, 100, 50)), "PNG"),
                     notices=frozenset({"errors.notice_tiny"}), size=(1, 1)),
        lambda: Case("small.png", encode(photo((14, 10)), "PNG"), notices=frozenset({"errors.notice_tiny"}),
                     size=(14, 10)),
        lambda: Case("strip.png", encode(photo((4000, 8)), "PNG"), size=(4000, 8),
                     notices=frozenset({"errors.notice_elongated", "errors.notice_tiny"})),
        lambda: Case("large.jpg", encode(photo((6000, 4000)), "JPEG", quality=80)),
        lambda: Case("bomb.png", png_bomb(), error="errors.too_many_pixels"),
        lambda: Case("wide-bomb.png", png_bomb(12000, 9000), error="errors.too_many_pixels"),
        lambda: Case("bomb.jpg", jpeg_with_size(65000, 65000), error="errors.too_many_pixels"),
        lambda: Case("empty.jpg", b"", error="errors.empty_file"),
        lambda: Case("truncated.jpg", encode(small, "JPEG")[:2000], error="errors.corrupt"),
        lambda: Case("corrupt.png", corrupt_png(), error="errors.corrupt"),
        lambda: Case("notes.png", b"These are my lecture notes, not a picture.\n" * 20, error="errors.not_an_image"),
        lambda: Case("drawing.svg", SVG, error="errors.svg"),
        lambda: Case("iphone.heic", encode(small, "HEIF"), size=(320, 240)),
        lambda: Case("rotated.heic", exif_rotated("HEIF"), size=(320, 240)),
        lambda: Case("android.avif", encode(small, "AVIF", quality=80), size=(320, 240)),
        lambda: Case("rotated.avif", exif_rotated("AVIF"), size=(320, 240)),
        lambda: Case("broken.heic", BROKEN_HEIC, error="errors.corrupt"),
        lambda: Case("truncated.heic", encode(small, "HEIF")[:600], error="errors.corrupt"),
        lambda: Case("truncated.avif", encode(small, "AVIF")[:600], error="errors.corrupt"),
        lambda: Case("liar.jpg", jpeg_with_size(15000, 10000), error="errors.corrupt"),
        lambda: Case("old.pcx", encode(small, "PCX"), error="errors.unsupported_format"),
    ]
    return [make() for make in cases]
