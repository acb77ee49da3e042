"""Guided Backprop (Springenberg et al., 2015): the gradient with negative gradients stopped at every ReLU.

It needs every ReLU to be an ``nn.ReLU`` module (Captum hooks the modules): ours are (see googlenet.model)."""

from __future__ import annotations

from captum.attr import GuidedBackprop

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    return MethodOutput(GuidedBackprop(ctx.replica).attribute(ctx.x, target=ctx.target))


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=1, backward=1)


SPEC = MethodSpec("guided_backprop", run, cost)
