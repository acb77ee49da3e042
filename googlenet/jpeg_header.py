"""JPEG headers: what the marker segments before the first scan say about a decode, read without decoding.

Why it matters for memory: ``draft`` makes libjpeg decode a baseline JPEG at 1/2, 1/4 or 1/8 scale with little
memory, but a *buffered* decode (progressive files, or a first scan that does not carry every component) keeps every
DCT coefficient of the full-size image whatever the scale. And a sequential file that is shorter than its declared
size allows is not an image of that size: libjpeg would fill the missing blocks with grey without an error.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from PIL import ImageFile

__all__ = ["JpegLayout", "open_jpeg", "jpeg_layout", "min_scan_bytes", "coefficients_per_pixel"]

Source = Union[Path, io.BytesIO]


def open_jpeg(fp: Source) -> ImageFile.ImageFile:
    """The JPEG plugin's own header parser (what ``Image.open`` runs), without ``Image.open``'s pixel guard.

    Why: Pillow refuses anything over 2 x ``Image.MAX_IMAGE_PIXELS`` (179 MP) at ``open``, before ``draft`` can
    make the decode small. Raising that global limit would let a 400 MP PNG through too; bypassing it for JPEG
    alone keeps it for every other format. Our own limits are checked right after.
    """
    from PIL import JpegImagePlugin

    if isinstance(fp, io.BytesIO):
        fp.seek(0)
        return JpegImagePlugin.jpeg_factory(fp)
    return JpegImagePlugin.jpeg_factory(str(fp), str(fp))


def coefficients_per_pixel(image: ImageFile.ImageFile) -> float:
    """DCT coefficients per pixel of a JPEG (each an int16): the sum of the components' sampling areas, relative
    to the largest (4:2:0 colour: 1 + 1/4 + 1/4 = 1.5)."""
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
    areas = [max(1, h) * max(1, v) for _, h, v, _ in layers]
    return sum(areas) / max(areas)


@dataclass(frozen=True)
class JpegLayout:
    """What the marker segments before the first scan say about a JPEG's decode."""

    buffered: bool  # libjpeg keeps every DCT coefficient while decoding, whatever the draft scale
    huffman_sequential: bool  # baseline / extended sequential with Huffman codes: every block is coded
    scan_bytes: int  # bytes from the first scan's data to the end of the file


def jpeg_layout(fp: Source, image: ImageFile.ImageFile) -> JpegLayout:
    """Walk the marker segments up to the first start of scan (headers only; nothing is decoded).

    Buffered: progressive (SOF2, 6, 10, 14), or a sequential file whose first scan does not carry every component.
    """
    components = len(image.getbands())
    frame = 0xC0
    handle = fp if isinstance(fp, io.BytesIO) else open(fp, "rb")
    try:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(2)  # after SOI
        for _ in range(10_000):
            marker = handle.read(2)
            if len(marker) < 2 or marker[0] != 0xFF:
                break  # not where a marker should be: the decoder will say what is wrong
            if marker[1] == 0xFF:
                handle.seek(-1, os.SEEK_CUR)  # fill byte
                continue
            length = int.from_bytes(handle.read(2), "big")
            if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
                frame = marker[1]
            if marker[1] == 0xDA:  # SOS: its first byte is the number of components in this scan
                scan = handle.read(1)
                partial = bool(scan) and scan[0] < components
                handle.seek(length - 3, os.SEEK_CUR)
                return JpegLayout(buffered=frame in (0xC2, 0xC6, 0xCA, 0xCE) or partial,
                                   huffman_sequential=frame in (0xC0, 0xC1), scan_bytes=size - handle.tell())
            handle.seek(length - 2, os.SEEK_CUR)
    finally:
        if handle is not fp:
            handle.close()
    return JpegLayout(buffered=bool(image.info.get("progressive")), huffman_sequential=False, scan_bytes=size)


def min_scan_bytes(image: ImageFile.ImageFile, width: int, height: int) -> int:
    """The fewest bytes a sequential Huffman scan of this size can take: every 8x8 block of every component costs at
    least 2 bits (the shortest DC code and the shortest end-of-block code are 1 bit each)."""
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
    h_max = max(max(1, h) for _, h, _, _ in layers)
    v_max = max(max(1, v) for _, _, v, _ in layers)
    blocks = sum(-(-width * max(1, h) // (8 * h_max)) * -(-height * max(1, v) // (8 * v_max)) for _, h, v, _ in layers)
    return blocks * 2 // 8
