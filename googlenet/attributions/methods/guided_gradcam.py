"""Guided GradCAM (Selvaraju et al., 2017): Guided Backprop multiplied by the module's Layer GradCAM map."""

from __future__ import annotations

from captum.attr import GuidedGradCam

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    layer = getattr(ctx.replica.model, ctx.settings.layer)
    return MethodOutput(GuidedGradCam(ctx.replica, layer).attribute(ctx.x, target=ctx.target,
                                                                   interpolate_mode="bilinear"))


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=2, backward=2)  # Layer GradCAM + Guided Backprop


SPEC = MethodSpec("guided_gradcam", run, cost, uses_layer=True)
