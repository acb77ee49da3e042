"""Layer GradCAM (Selvaraju et al., 2017): a module's channels weighted by their mean gradient, summed, ReLU'd and
upsampled to the input with Captum's ``LayerAttribution.interpolate``."""

from __future__ import annotations

from captum.attr import LayerAttribution, LayerGradCam

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    layer = getattr(ctx.replica.model, ctx.settings.layer)
    cam = LayerGradCam(ctx.replica, layer).attribute(ctx.x, target=ctx.target)  # 1 x 1 x h x w
    up = LayerAttribution.interpolate(cam, tuple(ctx.x.shape[-2:]), interpolate_mode="bilinear")  # 1 x 1 x H x W
    return MethodOutput(up)


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=1, backward=1)


SPEC = MethodSpec("layer_gradcam", run, cost, uses_layer=True)
