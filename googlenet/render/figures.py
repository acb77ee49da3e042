"""Shared plumbing for every figure the package draws: fonts (Korean included) and Figure -> PIL image.

Matplotlib's object API with the Agg canvas: no pyplot, so no global figure registry that could leak figures over
thousands of requests, and nothing shared between threads.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Optional, Sequence

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

log = logging.getLogger(__name__)

__all__ = ["DPI", "RC", "use_style_globally", "style_is_global", "CJK_FONTS", "LATIN_FONT", "cjk_font_family",
           "font_families", "to_image"]

# Fonts with Hangul (and other CJK) glyphs, best first. Noto Sans CJK comes with Debian's fonts-noto-cjk;
# the others are what Windows, macOS and Korean Linux installs usually have.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "Source Han Sans KR",
    "NanumGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
)
LATIN_FONT = "DejaVu Sans"  # ships with matplotlib: always there


@lru_cache(maxsize=1)
def cjk_font_family() -> Optional[str]:
    """The name of an installed font with Hangul glyphs, or None (Korean text would render as boxes)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning("no CJK font found (install fonts-noto-cjk): Korean text in figures will not render")
    return None


def font_families() -> list[str]:
    """Font family list for every text: Latin first, the CJK font as the per-glyph fallback."""
    cjk = cjk_font_family()
    return [LATIN_FONT, cjk] if cjk else [LATIN_FONT]


# Latin text in DejaVu Sans; matplotlib falls back per glyph to the CJK font for Korean.
RC = {"font.family": font_families(), "font.size": 9, "axes.titlesize": 9, "axes.unicode_minus": False}


def use_style_globally() -> None:
    """Make :data:`RC` matplotlib's global settings (an application calls this once; the app does at import).

    Why: every renderer wraps its drawing in ``rc_context(RC)``, which sets the global ``rcParams`` and restores
    them on exit. Two threads drawing at once (two users, or :func:`googlenet.render_branches.render_views`) could
    then restore the defaults under each other, and Korean text would lose its font mid-drawing. With ``RC``
    already global, entering and leaving ``rc_context(RC)`` writes the same values: drawing in threads is safe.
    """
    matplotlib.rcParams.update(RC)


def style_is_global() -> bool:
    """True when :func:`use_style_globally` is in effect (figures may then be drawn in parallel threads)."""
    return all(matplotlib.rcParams[key] == value for key, value in RC.items())


DPI = 110  # every figure is rendered at this resolution


def to_image(fig: Figure, dpi: int = DPI, margin: int = 6,
             pastes: Sequence[tuple[np.ndarray, int, int]] = ()) -> Image.Image:
    """Render ``fig`` to an RGB PIL image, trimmed to its content plus ``margin`` pixels, and release its artists.

    ``pastes``: (RGB uint8 picture, x, y of its top-left corner in canvas pixels) placed over the drawn canvas
    pixel for pixel. A picture that is already at screen resolution (a mosaic of feature maps) skips matplotlib's
    image resampling, which took 150 ms for one 1000x700 picture.

    Draws once, straight into Agg's pixel buffer: ``savefig(bbox_inches="tight")`` would draw the figure twice
    (once to measure) and then encode and decode a PNG, which was most of the time of a figure with many axes. Every
    figure here is laid out inside its canvas (constrained layout, or a fixed pixel layout), so trimming the white
    border gives the same framing as "tight".
    """
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)  # attach the Agg canvas explicitly: no GUI backend, no pyplot
    try:
        canvas.draw()
        rgb = np.array(canvas.buffer_rgba())[..., :3]  # H x W x 3, a copy of Agg's buffer
        for picture, x, y in pastes:
            h, w = picture.shape[:2]
            if x < 0 or y < 0 or y + h > rgb.shape[0] or x + w > rgb.shape[1]:
                raise ValueError(f"a {w}x{h} picture at ({x}, {y}) does not fit the "
                                 f"{rgb.shape[1]}x{rgb.shape[0]} canvas")
            rgb[y:y + h, x:x + w] = picture
        background = np.asarray(_rgb_bytes(fig.get_facecolor()), dtype=np.uint8)
        content = np.any(rgb != background, axis=2)  # H x W
        rows, cols = np.flatnonzero(content.any(axis=1)), np.flatnonzero(content.any(axis=0))
        if rows.size:  # an all-background figure is returned whole
            top, bottom = max(rows[0] - margin, 0), min(rows[-1] + margin + 1, rgb.shape[0])
            left, right = max(cols[0] - margin, 0), min(cols[-1] + margin + 1, rgb.shape[1])
            rgb = rgb[top:bottom, left:right]
        return Image.fromarray(np.ascontiguousarray(rgb))  # a copy: the canvas buffer is released below
    finally:
        fig.clear()  # release the artists now; the Figure is not registered anywhere else


def _rgb_bytes(colour) -> tuple[int, int, int]:  # noqa: ANN001 - any matplotlib colour
    """A matplotlib colour as 0..255 RGB."""
    r, g, b = to_rgb(colour)
    return round(r * 255), round(g * 255), round(b * 255)
