"""Saliency (Simonyan et al., 2014): the gradient of the target logit with respect to the input pixels."""

from __future__ import annotations

from captum.attr import Saliency

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    return MethodOutput(Saliency(ctx.replica).attribute(ctx.x, target=ctx.target, abs=False))


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=1, backward=1)


SPEC = MethodSpec("saliency", run, cost)
