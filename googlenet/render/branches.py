"""Pictures of a branch capture: the 9 x 4 overview, per-branch heatmaps on the crop, top-N channel grids.

Matplotlib's object API on the Agg canvas (see :mod:`googlenet.figures`): figures are never registered globally and
are cleared after rendering, so nothing leaks over many requests. Texts come from the locale files
(:class:`BranchText`), in the language the caller asks for.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ClassVar, Optional

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps, rc_context
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from ..activations import Capture, branch_offsets
from ..model import BRANCHES, INCEPTION_MODULES, branch_display_name, module_display_name
from .figures import DPI, RC, style_is_global, to_image
from .text import TextSet

__all__ = [
    "BranchText",
    "ChannelRank",
    "render_overview",
    "render_heatmaps",
    "render_channels",
    "render_views",
    "BranchFigures",
    "channel_mosaic",
    "Mosaic",
    "mean_activation_map",
    "top_channels",
]

BRANCH_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")  # one colour per branch, used in every figure
HEAT_CMAP = "magma"


@dataclass(frozen=True)
class BranchText(TextSet):
    """Every text the branch figures show (keys ``branches.fig.<field>`` in the locale files)."""

    PREFIX: ClassVar[str] = "branches.fig"
    overview_title: str
    overview_axis: str
    measure: str
    module: str
    heatmap_title: str
    heatmap_panel: str
    channels_title: str
    channel_label: str
    shared_scale: str
    per_branch_scale: str
    activation: str


def render_overview(shares: np.ndarray, measure_label: str, text: Optional[BranchText] = None) -> Image.Image:
    """9 stacked horizontal bars (3a at the top), each split into its four branches' shares (rows sum to 1)."""
    text = text or BranchText.load()
    if shares.shape != (len(INCEPTION_MODULES), len(BRANCHES)):
        raise ValueError(f"expected a 9 x 4 share matrix, got {shares.shape}")
    with rc_context(RC):
        # Fixed margins (in inches) instead of constrained layout, which measured every text twice per draw.
        fig = Figure(figsize=(7.6, 4.6), dpi=DPI)
        fig.subplots_adjust(left=0.7 / 7.6, right=1 - 0.15 / 7.6, top=1 - 0.35 / 4.6, bottom=1.05 / 4.6)
        ax = fig.subplots()
        ys = np.arange(len(INCEPTION_MODULES))[::-1]  # first module on top
        left = np.zeros(len(INCEPTION_MODULES))
        for j, branch in enumerate(BRANCHES):
            ax.barh(ys, shares[:, j], left=left, color=BRANCH_COLOURS[j], label=branch_display_name(branch, text.lang),
                    edgecolor="white", linewidth=0.6)
            for y, start, width in zip(ys, left, shares[:, j]):
                if width >= 0.06:  # label segments wide enough to hold the number
                    ax.text(start + width / 2, y, f"{width * 100:.0f}%", ha="center", va="center", fontsize=8,
                            color="white")
            left += shares[:, j]
        ax.set_yticks(ys, labels=[module_display_name(m) for m in INCEPTION_MODULES])
        ax.set_ylabel(text.module)
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"{text.overview_axis} · {text.measure.format(measure=measure_label)}")
        ax.set_title(text.overview_title)
        ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False, fontsize=8)
        return to_image(fig, dpi=DPI)


def mean_activation_map(part: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A branch output (C x h x w) averaged over channels and upsampled (bilinear) to ``size`` = (H, W)."""
    mean = torch.from_numpy(part.astype(np.float32)).mean(dim=0)[None, None]  # 1 x 1 x h x w
    up = F.interpolate(mean, size=size, mode="bilinear", align_corners=False)  # 1 x 1 x H x W
    return up[0, 0].numpy()


def _scales(values: list[np.ndarray], shared: bool) -> list[float]:
    highs = [float(v.max()) if v.size else 0.0 for v in values]
    highs = [h if h > 0 else 1.0 for h in highs]  # an all-zero map still gets a valid colour range
    return [max(highs)] * len(values) if shared else highs


def overlay_heat(grey: np.ndarray, values: np.ndarray, scale: float, alpha: float = 0.75) -> np.ndarray:
    """The heat colours of ``values / scale`` over a grey photo (both H x W, grey in 0..1): H x W x 3 uint8."""
    heat = colormaps[HEAT_CMAP](np.clip(values / scale, 0.0, 1.0))[..., :3]  # H x W x 3 in 0..1
    mixed = alpha * heat + (1.0 - alpha) * grey[..., None]  # the photo stays visible under the heat
    return np.round(mixed * 255).astype(np.uint8)


def render_heatmaps(cap: Capture, module: str, crop: Image.Image, shared_scale: bool,
                    text: Optional[BranchText] = None) -> Image.Image:
    """Four panels: each branch's mean activation, upsampled and overlaid on the crop, with colour bar(s)."""
    text = text or BranchText.load()
    side = 288  # panel size in screen pixels (the 224x224 crop, enlarged)
    grey = np.asarray(crop.convert("L").resize((side, side), Image.BILINEAR), dtype=np.float32) / 255.0
    maps = [mean_activation_map(part, (side, side)) for part in cap.branches[module]]
    scales = _scales(maps, shared_scale)
    panels = [overlay_heat(grey, values, scale) for values, scale in zip(maps, scales)]
    # Per-branch scales put a colour bar right of every panel: leave room for it.
    mosaic = tile_images([panels], gap=16 if shared_scale else 84, band=28)
    titles = [text.heatmap_panel.format(branch=branch_display_name(b, text.lang), channels=part.shape[0],
                                        height=part.shape[1], width=part.shape[2])
              for b, part in zip(BRANCHES, cap.branches[module])]
    note = text.shared_scale if shared_scale else text.per_branch_scale
    with rc_context(RC):
        layout = _PixelLayout(mosaic, left=8, right=96 if shared_scale else 84, top=46, bottom=8)
        fig = layout.figure()
        for j, (x, y) in enumerate(mosaic.origins[0]):
            layout.text(fig, x + side / 2, y - mosaic.band / 2, titles[j], color=BRANCH_COLOURS[j])
            if not shared_scale:
                layout.colour_bar(fig, (x + side + 8, y + side * 0.1, 10, side * 0.8), scales[j],
                                  text.activation if j == len(panels) - 1 else None)
        if shared_scale:
            x, y = mosaic.origins[0][-1]
            layout.colour_bar(fig, (x + side + 16, y + side * 0.1, 12, side * 0.8), scales[0], text.activation)
        layout.title(fig, f"{text.heatmap_title.format(module=module_display_name(module))}\n{note}")
        return layout.render(fig)


@dataclass(frozen=True)
class ChannelRank:
    branch: str
    index: int  # channel index within the branch
    global_index: int  # channel index within the module's concatenated output
    mean_activation: float


def top_channels(cap: Capture, module: str, n: int) -> list[list[ChannelRank]]:
    """For each branch, its ``n`` channels with the highest mean activation, best first."""
    if n < 1:
        raise ValueError("n must be at least 1")
    ranks = []
    for branch, part, offset in zip(BRANCHES, cap.branches[module], branch_offsets(cap, module)):
        means = part.astype(np.float32).mean(axis=(1, 2))  # C
        order = np.argsort(-means, kind="stable")[:n]
        ranks.append([ChannelRank(branch, int(i), offset + int(i), float(means[i])) for i in order])
    return ranks


@dataclass(frozen=True)
class Mosaic:
    """Feature maps tiled into one RGB picture, and where each tile went (for labels)."""

    pixels: np.ndarray  # H x W x 3 uint8
    tile_shape: tuple[int, int]  # (height, width) of every tile, in mosaic pixels
    origins: list[list[tuple[int, int]]]  # per row, per column: (x, y) of the tile's top-left corner
    band: int  # empty rows above each row of tiles, for the channel labels


def tile_images(rows: list[list[np.ndarray]], *, gap: int, band: int) -> Mosaic:
    """Place equally sized RGB pictures (h x w x 3 uint8) in rows on white, ``band`` empty pixels above each row."""
    if not rows or not any(rows):
        raise ValueError("nothing to tile")
    tile_h, tile_w = next(p for row in rows for p in row).shape[:2]
    cols = max(len(row) for row in rows)
    height = len(rows) * (band + tile_h) + (len(rows) - 1) * gap
    width = cols * tile_w + (cols - 1) * gap
    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    origins: list[list[tuple[int, int]]] = []
    for r, row in enumerate(rows):
        y = r * (band + tile_h + gap) + band
        origins.append([])
        for c, picture in enumerate(row):
            x = c * (tile_w + gap)
            pixels[y:y + tile_h, x:x + tile_w] = picture
            origins[-1].append((x, y))
    return Mosaic(pixels, (tile_h, tile_w), origins, band)


def channel_mosaic(rows: list[list[np.ndarray]], scales: list[float], cmap_name: str = HEAT_CMAP, *,
                   target: int = 84, gap: int = 6, band: int = 16) -> Mosaic:
    """Colour each feature map with ``cmap(value / scale of its row)`` and tile them, one row per list.

    Drawing the grid as ONE image instead of one matplotlib axes per channel is what makes the channel view fast:
    32 axes under constrained layout took about 2 s to draw on a 2-core CPU.
    """
    if not rows or not any(rows):
        raise ValueError("nothing to tile")
    h, w = next(m for row in rows for m in row).shape
    factor = max(1, target // max(h, w))  # nearest-neighbour upscaling keeps every activation a visible square
    cmap = colormaps[cmap_name]
    coloured = [[cmap(np.clip(fmap / scale, 0.0, 1.0), bytes=True)[..., :3]  # h x w x 3
                 .repeat(factor, axis=0).repeat(factor, axis=1) for fmap in maps]
                for maps, scale in zip(rows, scales)]
    return tile_images(coloured, gap=gap, band=band)


def render_channels(cap: Capture, module: str, n: int, shared_scale: bool,
                    text: Optional[BranchText] = None) -> Image.Image:
    """A grid, one row per branch, of its ``n`` most active channels' feature maps, with colour bar(s)."""
    text = text or BranchText.load()
    ranks = top_channels(cap, module, n)
    rows_maps = [[cap.branches[module][BRANCHES.index(r.branch)][r.index].astype(np.float32) for r in row]
                 for row in ranks]
    scales = _scales([np.stack(row) for row in rows_maps], shared_scale)
    mosaic = channel_mosaic(rows_maps, scales, target=126, gap=10, band=22)
    note = text.shared_scale if shared_scale else text.per_branch_scale
    with rc_context(RC):
        layout = _PixelLayout(mosaic, left=104, right=96, top=46, bottom=8, min_width=560)
        fig = layout.figure()
        tile_h, tile_w = mosaic.tile_shape
        for row, branch_ranks in enumerate(ranks):
            for (x, y), r in zip(mosaic.origins[row], branch_ranks):
                layout.text(fig, x + tile_w / 2, y - mosaic.band / 2, text.channel_label.format(
                    index=r.index, global_index=r.global_index), fontsize=7)
            x, y = mosaic.origins[row][0]
            layout.text(fig, x - 10, y + tile_h / 2, branch_display_name(BRANCHES[row], text.lang), ha="right",
                        color=BRANCH_COLOURS[row], fontsize=9)
        right_edge = mosaic.pixels.shape[1]
        if shared_scale:
            height = mosaic.pixels.shape[0]
            layout.colour_bar(fig, (right_edge + 14, height * 0.1, 12, height * 0.8), scales[0], text.activation)
        else:
            for row, scale in enumerate(scales):
                _, y = mosaic.origins[row][0]
                layout.colour_bar(fig, (right_edge + 14, y, 10, tile_h), scale)
        layout.title(fig, f"{text.channels_title.format(module=module_display_name(module), n=n)}\n{note}")
        return layout.render(fig)


class _PixelLayout:
    """A figure laid out in screen pixels around a mosaic that is pasted 1:1 (no resampling, no axes).

    Positions given to the methods are mosaic pixels (x right, y DOWN from the mosaic's top-left corner), the way
    :class:`Mosaic` records its tiles; this class converts them to figure coordinates.
    """

    def __init__(self, mosaic: Mosaic, *, left: int, right: int, top: int, bottom: int, min_width: int = 0) -> None:
        self.mosaic = mosaic
        height, width = mosaic.pixels.shape[:2]
        self.width = max(left + width + right, min_width)
        self.height = top + height + bottom
        self.x0 = (self.width - width - left - right) // 2 + left  # centred when the title needs a wider figure
        self.y0 = bottom  # the mosaic's bottom edge, from the figure's bottom

    def figure(self) -> Figure:
        """An empty figure of the layout's size: texts and colour bars go on it, the mosaic is pasted at the end."""
        return Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)

    def render(self, fig: Figure) -> Image.Image:
        """The figure drawn, with the mosaic's tiles pasted pixel for pixel (no resampling) where the layout put
        them. Tiles only: the mosaic's white gaps and label bands hold the texts and colour bars."""
        top = self.height - self.y0 - self.mosaic.pixels.shape[0]
        h, w = self.mosaic.tile_shape
        pastes = [(self.mosaic.pixels[y:y + h, x:x + w], self.x0 + x, top + y)
                  for row in self.mosaic.origins for x, y in row]
        return to_image(fig, dpi=DPI, pastes=pastes)

    def _point(self, x: float, y: float) -> tuple[float, float]:
        """Mosaic pixels -> figure fraction."""
        return (self.x0 + x) / self.width, (self.y0 + self.mosaic.pixels.shape[0] - y) / self.height

    def text(self, fig: Figure, x: float, y: float, s: str, ha: str = "center", **kwargs) -> None:  # noqa: ANN003
        fig.text(*self._point(x, y), s, ha=ha, va="center", **kwargs)

    def colour_bar(self, fig: Figure, box: tuple[float, float, float, float], scale: float,
                   label: Optional[str] = None) -> None:
        """A colour bar for 0..scale in ``box`` = (x, y of its top, width, height) in mosaic pixels."""
        x, y, w, h = box
        left, top = self._point(x, y)
        cax = fig.add_axes((left, top - h / self.height, w / self.width, h / self.height))
        fig.colorbar(ScalarMappable(norm=Normalize(0.0, scale), cmap=colormaps[HEAT_CMAP]), cax=cax, label=label)

    def title(self, fig: Figure, s: str) -> None:
        fig.text(0.5, 1 - 6 / self.height, s, ha="center", va="top")


@dataclass(frozen=True)
class BranchFigures:
    """The three pictures of one branch-explorer view."""

    overview: Image.Image
    heatmaps: Image.Image
    channels: Image.Image


# Three drawing threads: matplotlib spends much of a figure's time in C++ (text layout, rasterising) without the
# GIL, so the three figures of a view take about the time of the slowest one instead of their sum (~0.8 s -> ~0.45 s
# on 2 cores).
_DRAWING = ThreadPoolExecutor(max_workers=3, thread_name_prefix="branch-figures")


def render_views(cap: Capture, module: str, crop: Image.Image, shares: np.ndarray, measure_label: str, n: int,
                 shared_scale: bool, text: Optional[BranchText] = None) -> BranchFigures:
    """Overview, heatmaps and channel grid of one view; drawn in parallel when that is safe.

    Parallel only when :func:`googlenet.figures.style_is_global` (the app makes it so): otherwise concurrent
    ``rc_context`` blocks could restore matplotlib's defaults under each other. Each figure has its own canvas and
    matplotlib keeps its font objects per thread.
    """
    text = text or BranchText.load()
    jobs = ((render_overview, (shares, measure_label, text)),
            (render_heatmaps, (cap, module, crop, shared_scale, text)),
            (render_channels, (cap, module, n, shared_scale, text)))
    if not style_is_global():
        return BranchFigures(*(fn(*args) for fn, args in jobs))
    futures = [_DRAWING.submit(fn, *args) for fn, args in jobs]
    return BranchFigures(*(f.result() for f in futures))
