"""Pictures of a branch capture: the 9 x 4 overview, per-branch heatmaps on the crop, top-N channel grids.

Matplotlib's object API on the Agg canvas (see :mod:`googlenet.figures`): figures are never registered globally and
are cleared after rendering, so nothing leaks over many requests. Texts are passed in (:class:`BranchText`) so the
app can show them in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping, Optional

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps, rc_context
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from .activations import Capture, branch_offsets
from .figures import DPI, RC, to_image
from .model import BRANCHES, INCEPTION_MODULES, branch_display_name, module_display_name

__all__ = [
    "BranchText",
    "ChannelRank",
    "render_overview",
    "render_heatmaps",
    "render_channels",
    "channel_mosaic",
    "Mosaic",
    "mean_activation_map",
    "top_channels",
]

BRANCH_COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52")  # one colour per branch, used in every figure
HEAT_CMAP = "magma"


@dataclass(frozen=True)
class BranchText:
    """Every text the branch figures show (English defaults; the app passes translations)."""

    overview_title: str = "Share of each branch in each Inception module's output"
    overview_axis: str = "share of the module's output"
    measure: str = "measure: {measure}"
    module: str = "module"
    heatmap_title: str = "{module}: mean activation of each branch over its channels"
    channels_title: str = "{module}: the {n} most active channels of each branch"
    channel_label: str = "#{index} (out #{global_index})"
    shared_scale: str = "one colour scale for all four branches"
    per_branch_scale: str = "each branch has its own colour scale"
    activation: str = "activation (after ReLU)"

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> "BranchText":
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def render_overview(shares: np.ndarray, measure_label: str, text: BranchText = BranchText()) -> Image.Image:
    """9 stacked horizontal bars (3a at the top), each split into its four branches' shares (rows sum to 1)."""
    if shares.shape != (len(INCEPTION_MODULES), len(BRANCHES)):
        raise ValueError(f"expected a 9 x 4 share matrix, got {shares.shape}")
    with rc_context(RC):
        fig = Figure(figsize=(7.6, 4.6), layout="constrained")
        ax = fig.subplots()
        ys = np.arange(len(INCEPTION_MODULES))[::-1]  # first module on top
        left = np.zeros(len(INCEPTION_MODULES))
        for j, branch in enumerate(BRANCHES):
            ax.barh(ys, shares[:, j], left=left, color=BRANCH_COLOURS[j], label=branch_display_name(branch),
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
        return to_image(fig)


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
                    text: BranchText = BranchText()) -> Image.Image:
    """Four panels: each branch's mean activation, upsampled and overlaid on the crop, with colour bar(s)."""
    size = (crop.size[1], crop.size[0])
    maps = [mean_activation_map(part, size) for part in cap.branches[module]]
    scales = _scales(maps, shared_scale)
    grey = np.asarray(crop.convert("L"), dtype=np.float32) / 255.0
    panels = [overlay_heat(grey, values, scale) for values, scale in zip(maps, scales)]
    # Per-branch scales put a colour bar right of every panel: leave room for it.
    mosaic = tile_images([panels], gap=64 if not shared_scale else 12, band=22)
    # One image in a fixed pixel layout: no constrained layout over four axes and their colour bars.
    zoom = 1.3
    left, right, top, bottom = 8, 96 if shared_scale else 70, 46, 8
    body_w, body_h = mosaic.pixels.shape[1] * zoom, mosaic.pixels.shape[0] * zoom
    fig_w, fig_h = body_w + left + right, body_h + top + bottom
    with rc_context(RC):
        fig = Figure(figsize=(fig_w / DPI, fig_h / DPI), dpi=DPI)
        ax = fig.add_axes((left / fig_w, bottom / fig_h, body_w / fig_w, body_h / fig_h))
        ax.imshow(mosaic.pixels, interpolation="bilinear")
        ax.set_axis_off()
        panel_h = (mosaic.pixels.shape[0] - mosaic.band) * zoom
        for j, ((x, y), part) in enumerate(zip(mosaic.origins[0], cap.branches[module])):
            title = f"{branch_display_name(BRANCHES[j])} ({part.shape[0]} ch, {part.shape[1]}x{part.shape[2]})"
            ax.text(x + mosaic.tile / 2, y - mosaic.band / 2, title, ha="center", va="center",
                    color=BRANCH_COLOURS[j])
            if not shared_scale:
                right_edge = left + (x + panels[j].shape[1]) * zoom
                _colour_bar(fig, (right_edge + 6, bottom + panel_h * 0.1, 9, panel_h * 0.8), (fig_w, fig_h),
                            scales[j], text.activation if j == len(panels) - 1 else None)
        if shared_scale:
            _colour_bar(fig, (left + body_w + 14, bottom + panel_h * 0.1, 12, panel_h * 0.8), (fig_w, fig_h),
                        scales[0], text.activation)
        note = text.shared_scale if shared_scale else text.per_branch_scale
        fig.text(0.5, 1 - 6 / fig_h, f"{text.heatmap_title.format(module=module_display_name(module))}\n{note}",
                 ha="center", va="top")
        return to_image(fig, dpi=DPI)


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
    tile: int  # side of a tile in mosaic pixels (a feature map upscaled by an integer factor, nearest neighbour)
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
    return Mosaic(pixels, max(tile_h, tile_w), origins, band)


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


def _colour_bar(fig: Figure, box: tuple[float, float, float, float], fig_size: tuple[float, float], scale: float,
                label: Optional[str] = None) -> None:
    """A colour bar for 0..scale in a box given in figure pixels (x, y from the bottom, width, height)."""
    fig_w, fig_h = fig_size
    x, y, w, h = box
    cax = fig.add_axes((x / fig_w, y / fig_h, w / fig_w, h / fig_h))
    fig.colorbar(ScalarMappable(norm=Normalize(0.0, scale), cmap=colormaps[HEAT_CMAP]), cax=cax, label=label)


def render_channels(cap: Capture, module: str, n: int, shared_scale: bool,
                    text: BranchText = BranchText()) -> Image.Image:
    """A grid, one row per branch, of its ``n`` most active channels' feature maps, with colour bar(s)."""
    ranks = top_channels(cap, module, n)
    rows_maps = [[cap.branches[module][BRANCHES.index(r.branch)][r.index].astype(np.float32) for r in row]
                 for row in ranks]
    scales = _scales([np.stack(row) for row in rows_maps], shared_scale)
    mosaic = channel_mosaic(rows_maps, scales)
    # A fixed layout in pixels (no constrained layout: it measured every text of every axes, twice).
    zoom = 1.5  # screen pixels per mosaic pixel
    left, right, top, bottom = 104, 96, 46, 8
    body_w, body_h = mosaic.pixels.shape[1] * zoom, mosaic.pixels.shape[0] * zoom
    fig_w, fig_h = max(body_w + left + right, 560), body_h + top + bottom
    x0 = (fig_w - body_w - left - right) / 2 + left  # centred when the title makes the figure wider
    with rc_context(RC):
        fig = Figure(figsize=(fig_w / DPI, fig_h / DPI), dpi=DPI)
        ax = fig.add_axes((x0 / fig_w, bottom / fig_h, body_w / fig_w, body_h / fig_h))
        ax.imshow(mosaic.pixels, interpolation="nearest")
        ax.set_axis_off()
        for row, branch_ranks in enumerate(ranks):
            for (x, y), r in zip(mosaic.origins[row], branch_ranks):
                ax.text(x + mosaic.tile / 2, y - mosaic.band / 2, text.channel_label.format(
                    index=r.index, global_index=r.global_index), ha="center", va="center", fontsize=7)
            x, y = mosaic.origins[row][0]
            ax.text(-8, y + mosaic.tile / 2, branch_display_name(BRANCHES[row]), ha="right", va="center",
                    color=BRANCH_COLOURS[row], fontsize=9)
        bar_x = x0 + body_w + 14
        if shared_scale:
            _colour_bar(fig, (bar_x, bottom + body_h * 0.1, 12, body_h * 0.8), (fig_w, fig_h), scales[0],
                        text.activation)
        else:
            for row, scale in enumerate(scales):
                _, y = mosaic.origins[row][0]
                y_top = bottom + body_h - y * zoom  # the row's top edge, in figure pixels from the bottom
                _colour_bar(fig, (bar_x, y_top - mosaic.tile * zoom, 10, mosaic.tile * zoom), (fig_w, fig_h), scale)
        note = text.shared_scale if shared_scale else text.per_branch_scale
        fig.text(0.5, 1 - 6 / fig_h, f"{text.channels_title.format(module=module_display_name(module), n=n)}\n{note}",
                 ha="center", va="top")
        return to_image(fig, dpi=DPI)
