"""A one-page report (PNG or PDF) of one photo's analysis, to hand out or archive.

The report is composed from pieces that were already computed elsewhere (the prediction, the crop the network saw,
and optionally a branch-overview image and an attribution image): nothing here runs the network. Pieces that are
missing are left out with a note saying so, never silently.

Rendering uses matplotlib's object API (``Figure`` + Agg canvas, no pyplot): no global figure state, nothing to
close, safe to call from several request threads at once. All text comes from the locale files (:class:`ReportText`,
in the reader's language); a CJK-capable font (Noto Sans CJK from Debian's ``fonts-noto-cjk``, or another
Korean font) is used as a fallback so that Korean renders instead of empty boxes.
"""

from __future__ import annotations

import io
import logging
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Optional, Protocol, Sequence, Union

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ..labels import shown_name
from .figures import cjk_font_family, font_families
from .text import TextSet

__all__ = [
    "REPORT_FORMATS",
    "ReportPieces",
    "ReportText",
    "cjk_font_family",
    "font_families",
    "build_figure",
    "render_report",
    "save_report",
]

log = logging.getLogger(__name__)

REPORT_FORMATS: tuple[str, ...] = ("png", "pdf")
PAGE_SIZE_IN: tuple[float, float] = (8.27, 11.69)  # A4 portrait, so the PDF prints as one page
PNG_DPI = 150  # 1240 x 1754 pixels: sharp when printed, small enough to e-mail


ImageLike = Union[Image.Image, np.ndarray, str, os.PathLike]


class ScoreLike(Protocol):
    """One class of the prediction (``googlenet.inference.ClassScore`` fits)."""

    index: int
    name: str
    probability: float


@dataclass(frozen=True)
class ReportText(TextSet):
    """Every text on the report (keys ``report.page.<field>`` in the locale files)."""

    PREFIX: ClassVar[str] = "report.page"
    title: str
    photo: str
    created: str
    prediction: str
    crop: str
    branches: str
    attribution: str
    weights: str
    missing_branches: str
    missing_attribution: str
    attribution_note: str
    footer: str


@dataclass(frozen=True)
class ReportPieces:
    """What the report shows. Only ``top``, ``crop`` and ``weights`` are required."""

    top: Sequence[ScoreLike]  # best first; the report shows up to five
    crop: ImageLike  # the 224x224 pixels the network saw
    weights: str  # weights status in words, e.g. "official torchvision IMAGENET1K_V1 (verified)"
    weights_warning: Optional[str] = None  # printed loudly (e.g. untrained weights)
    device: Optional[str] = None
    photo_name: Optional[str] = None
    branch_overview: Optional[ImageLike] = None
    attribution: Optional[ImageLike] = None
    attribution_caption: Optional[str] = None  # e.g. "Integrated Gradients for 'tabby'"
    created: datetime = field(default_factory=datetime.now)


# ---------------------------------------------------------------------------------------------------------------
# Fonts and text
# ---------------------------------------------------------------------------------------------------------------


def _display_width(text: str) -> int:
    """Columns a string takes: East Asian wide characters (Hangul, CJK) count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def wrap_text(text: str, columns: int) -> str:
    """Wrap ``text`` to ``columns`` display columns (Korean-aware: Hangul is twice as wide as Latin)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        words = paragraph.split(" ")
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if _display_width(candidate) <= columns or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
            # A single word longer than the line (rare: long file names) is cut hard.
            while _display_width(line) > columns:
                cut, width = 0, 0
                while cut < len(line) and width + _display_width(line[cut]) <= columns:
                    width += _display_width(line[cut])
                    cut += 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------------------------------------------


def _as_rgb_array(image: ImageLike) -> np.ndarray:
    """Any image piece -> H x W x 3 uint8 (paths are opened; greyscale and alpha are converted)."""
    if isinstance(image, (str, os.PathLike)):
        with Image.open(Path(image)) as opened:
            image = opened.convert("RGB")
    if isinstance(image, Image.Image):
        return np.asarray(image.convert("RGB"))
    array = np.asarray(image)
    if array.dtype != np.uint8:
        # Float images in [0, 1] (matplotlib's convention); anything else is clipped into that range.
        array = (np.clip(array.astype(np.float64), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an H x W, H x W x 3 or H x W x 4 image, got shape {array.shape}")
    return array[:, :, :3]


# ---------------------------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------------------------

_GREY = "#6b7280"
_ACCENT = "#4f46e5"
_WARN = "#b91c1c"


def _heading(ax: Axes, text: str, families: list[str]) -> None:
    """A bold title over the axes, wrapped to the axes' width (so neighbouring titles never overlap)."""
    width_in = ax.get_position().width * ax.figure.get_figwidth()
    columns = max(12, int(width_in * 10.5))  # about 10.5 columns of 11 pt bold text per inch
    ax.set_title(wrap_text(text, columns), loc="left", fontsize=11, fontweight="bold", fontfamily=families, pad=6)


def _show_image(ax: Axes, image: ImageLike, heading: str, families: list[str]) -> None:
    ax.imshow(_as_rgb_array(image), interpolation="lanczos")
    ax.set_xticks([])
    ax.set_yticks([])
    _heading(ax, heading, families)


def _show_missing(ax: Axes, heading: str, note: str, families: list[str], columns: int) -> None:
    """A light box where a piece would be, saying that it is not included (never a silent gap)."""
    ax.set_facecolor("#f3f4f6")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#d1d5db")
    ax.text(0.5, 0.5, wrap_text(note, columns), ha="center", va="center", fontsize=9.5, color=_GREY,
            fontfamily=families, transform=ax.transAxes, linespacing=1.5)
    _heading(ax, heading, families)


def _show_top5(ax: Axes, top: Sequence[ScoreLike], heading: str, families: list[str], lang: str) -> None:
    """Horizontal bars, best on top; class name above each bar, percentage at its end."""
    scores = list(top)[:5]
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(len(scores) - 0.4, -0.9)
    for i, score in enumerate(scores):
        p = float(score.probability)
        ax.barh(i + 0.12, 1.0, height=0.32, color="#e5e7eb")
        ax.barh(i + 0.12, p, height=0.32, color=_ACCENT if i == 0 else "#a5b4fc")
        ax.text(0.0, i - 0.22, f"{i + 1}. {shown_name(score.index, score.name, lang)}", ha="left", va="bottom", fontsize=10.5,
                fontweight="bold" if i == 0 else "normal", fontfamily=families)
        ax.text(1.0, i - 0.22, f"{p * 100:.1f}%", ha="right", va="bottom", fontsize=10.5, fontfamily=families)
    ax.axis("off")
    _heading(ax, heading, families)


def build_figure(pieces: ReportPieces, text: ReportText) -> Figure:
    """The report page as a matplotlib Figure (what :func:`render_report` saves; tests read its texts)."""
    families = font_families()
    fig = Figure(figsize=PAGE_SIZE_IN, facecolor="white")
    FigureCanvasAgg(fig)

    # Header: title, photo name, date.
    fig.text(0.06, 0.965, text.title, fontsize=17, fontweight="bold", va="top", fontfamily=families)
    meta = [text.created.format(date=pieces.created.strftime("%Y-%m-%d %H:%M"))]
    if pieces.photo_name:
        meta.insert(0, text.photo.format(name=pieces.photo_name))
    fig.text(0.06, 0.93, "   ·   ".join(meta), fontsize=9.5, color=_GREY, va="top", fontfamily=families)

    # Row 1: the crop and the top-5. Axes rectangles are [left, bottom, width, height] in page fractions.
    _show_image(fig.add_axes((0.06, 0.63, 0.34, 0.24)), pieces.crop, text.crop, families)
    _show_top5(fig.add_axes((0.47, 0.63, 0.47, 0.24)), pieces.top, text.prediction, families, text.lang)

    # Row 2: the branch overview (usually a wide grid: modules x branches), full width.
    branches_ax = fig.add_axes((0.06, 0.35, 0.88, 0.235))
    if pieces.branch_overview is not None:
        _show_image(branches_ax, pieces.branch_overview, text.branches, families)
    else:
        _show_missing(branches_ax, text.branches, text.missing_branches, families, columns=80)

    # Row 3: one attribution, and what it does and does not show.
    attribution_ax = fig.add_axes((0.06, 0.085, 0.34, 0.215))
    heading = f"{text.attribution}: {pieces.attribution_caption}" if pieces.attribution_caption else text.attribution
    if pieces.attribution is not None:
        _show_image(attribution_ax, pieces.attribution, heading, families)
    else:
        _show_missing(attribution_ax, text.attribution, text.missing_attribution, families, columns=34)
    fig.text(0.47, 0.285, wrap_text(text.attribution_note, 52), fontsize=9.5, va="top", color="#374151",
             fontfamily=families, linespacing=1.5)

    # Weights status: loud when the weights are untrained (predictions are then meaningless).
    status = pieces.weights if not pieces.device else f"{pieces.weights} · {pieces.device}"
    fig.text(0.47, 0.165, text.weights, fontsize=11, fontweight="bold", va="top", fontfamily=families)
    fig.text(0.47, 0.14, wrap_text(status, 52), fontsize=9.5, va="top", fontfamily=families, linespacing=1.4)
    if pieces.weights_warning:
        fig.text(0.47, 0.10, wrap_text(f"⚠ {pieces.weights_warning}", 48), fontsize=10.5, va="top",
                 color=_WARN, fontweight="bold", fontfamily=families)

    fig.text(0.06, 0.035, text.footer, fontsize=8.5, color=_GREY, fontfamily=families)
    return fig


def render_report(pieces: ReportPieces, text: Optional[ReportText] = None, fmt: str = "png") -> bytes:
    """The report as PNG (1240 x 1754 px, A4 at 150 dpi) or one-page PDF bytes."""
    text = text or ReportText.load()
    fmt = fmt.lower()
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"report format must be one of {REPORT_FORMATS}, got {fmt!r}")
    if not pieces.top:
        raise ValueError("a report needs the prediction (top) to be computed first")
    fig = build_figure(pieces, text)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=PNG_DPI, facecolor="white")
    return buffer.getvalue()


def save_report(path: Union[str, os.PathLike], pieces: ReportPieces, text: Optional[ReportText] = None) -> Path:
    """Write the report to ``path``; the format comes from its suffix (.png or .pdf)."""
    path = Path(path)
    path.write_bytes(render_report(pieces, text, fmt=path.suffix.lstrip(".") or "png"))
    return path
