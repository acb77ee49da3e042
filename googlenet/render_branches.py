"""Pictures of a branch capture: the 9 x 4 overview, per-branch heatmaps on the crop, top-N channel grids.

Matplotlib's object API on the Agg canvas (see :mod:`googlenet.figures`): figures are never registered globally and
are cleared after rendering, so nothing leaks over many requests. Texts are passed in (:class:`BranchText`) so the
app can show them in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps, rc_context
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from PIL import Image

from .activations import Capture, branch_offsets
from .figures import RC, to_image
from .model import BRANCHES, INCEPTION_MODULES, branch_display_name, module_display_name

__all__ = [
    "BranchText",
    "ChannelRank",
    "render_overview",
    "render_heatmaps",
    "render_channels",
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


def render_heatmaps(cap: Capture, module: str, crop: Image.Image, shared_scale: bool,
                    text: BranchText = BranchText()) -> Image.Image:
    """Four panels: each branch's mean activation, upsampled and overlaid on the crop, with colour bar(s)."""
    size = (crop.size[1], crop.size[0])
    maps = [mean_activation_map(part, size) for part in cap.branches[module]]
    scales = _scales(maps, shared_scale)
    grey = np.asarray(crop.convert("L"), dtype=np.float32) / 255.0
    cmap = colormaps[HEAT_CMAP]
    with rc_context(RC):
        fig = Figure(figsize=(13.0, 3.9), layout="constrained")
        axes = fig.subplots(1, 4)
        mappable = None
        for ax, branch, values, scale in zip(axes, BRANCHES, maps, scales):
            norm = Normalize(vmin=0.0, vmax=scale)
            ax.imshow(grey, cmap="gray", vmin=0, vmax=1)
            rgba = cmap(norm(values))
            rgba[..., 3] = 0.75  # the photo stays visible under the heat
            ax.imshow(rgba)
            ax.set_xticks([])
            ax.set_yticks([])
            part = cap.branches[module][BRANCHES.index(branch)]
            ax.set_title(f"{branch_display_name(branch)} ({part.shape[0]} ch, {part.shape[1]}x{part.shape[2]})",
                         color=BRANCH_COLOURS[BRANCHES.index(branch)])
            mappable = ScalarMappable(norm=norm, cmap=cmap)
            if not shared_scale:
                fig.colorbar(mappable, ax=ax, shrink=0.8, label=text.activation)
        if shared_scale and mappable is not None:
            fig.colorbar(mappable, ax=list(axes), shrink=0.8, label=text.activation)
        note = text.shared_scale if shared_scale else text.per_branch_scale
        fig.suptitle(f"{text.heatmap_title.format(module=module_display_name(module))}\n{note}")
        return to_image(fig)


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


def render_channels(cap: Capture, module: str, n: int, shared_scale: bool,
                    text: BranchText = BranchText()) -> Image.Image:
    """A grid, one row per branch, of its ``n`` most active channels' feature maps, with colour bar(s)."""
    ranks = top_channels(cap, module, n)
    cols = max(len(r) for r in ranks)
    rows_maps = [[cap.branches[module][BRANCHES.index(r.branch)][r.index].astype(np.float32) for r in row]
                 for row in ranks]
    scales = _scales([np.stack(row) for row in rows_maps], shared_scale)
    cmap = colormaps[HEAT_CMAP]
    with rc_context(RC):
        fig = Figure(figsize=(1.45 * cols + 1.6, 1.65 * len(BRANCHES) + 0.9), layout="constrained")
        axes = np.atleast_2d(fig.subplots(len(BRANCHES), cols, squeeze=False))
        for row, (branch_ranks, maps, scale) in enumerate(zip(ranks, rows_maps, scales)):
            norm = Normalize(vmin=0.0, vmax=scale)
            for col in range(cols):
                ax = axes[row, col]
                ax.set_xticks([])
                ax.set_yticks([])
                if col >= len(branch_ranks):
                    ax.axis("off")
                    continue
                r = branch_ranks[col]
                ax.imshow(maps[col], cmap=cmap, norm=norm, interpolation="nearest")
                ax.set_title(text.channel_label.format(index=r.index, global_index=r.global_index), fontsize=7)
                if col == 0:
                    ax.set_ylabel(branch_display_name(branch_ranks[0].branch), color=BRANCH_COLOURS[row],
                                  fontsize=9)
            if not shared_scale:
                fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[row]), shrink=0.9, pad=0.01)
        if shared_scale:
            fig.colorbar(ScalarMappable(norm=Normalize(0.0, scales[0]), cmap=cmap), ax=axes.ravel().tolist(),
                         shrink=0.6, label=text.activation)
        note = text.shared_scale if shared_scale else text.per_branch_scale
        fig.suptitle(f"{text.channels_title.format(module=module_display_name(module), n=n)}\n{note}")
        return to_image(fig)
