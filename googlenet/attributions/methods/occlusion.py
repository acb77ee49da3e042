"""Occlusion (Zeiler and Fergus, 2014): the drop of the target logit when a square patch is replaced by the
baseline, for every window position. Forward passes only."""

from __future__ import annotations

from captum.attr import Occlusion

from ..cost import Cost, occlusion_positions
from ..errors import AttributionError
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    s = ctx.settings
    attr = Occlusion(ctx.replica).attribute(
        ctx.x, sliding_window_shapes=(3, s.window, s.window), strides=(3, s.stride, s.stride),
        baselines=ctx.baseline(s.baseline), target=ctx.target, perturbations_per_eval=s.internal_batch_size)
    return MethodOutput(attr[:, :1])  # the window spans all channels: each channel holds the same value


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    h, w = size
    if s.window > min(h, w):
        raise AttributionError("errors.occlusion_window_too_large", window=s.window, height=h, width=w)
    # One forward pass of the unoccluded input, then one per window position.
    positions = occlusion_positions(h, s.window, s.stride) * occlusion_positions(w, s.window, s.stride)
    return Cost(forward=1 + positions, backward=0)


# Window / stride in pixels. Window 15 / stride 8 took 33 s on a 2-core CPU, so the presets use larger ones.
SPEC = MethodSpec("occlusion", run, cost, occlusion_presets={"fast": (56, 28), "balanced": (32, 16),
                                                              "thorough": (24, 12)}, uses_baseline=True)
