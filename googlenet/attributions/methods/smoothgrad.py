"""SmoothGrad (Smilkov et al., 2017): the gradient averaged over noisy copies of the input."""

from __future__ import annotations

from captum.attr import NoiseTunnel, Saliency

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext


def run(ctx: RunContext) -> MethodOutput:
    s, x = ctx.settings, ctx.x
    stdev = s.noise * float(x.max() - x.min())  # noise as a fraction of the input's value range
    tunnel = NoiseTunnel(Saliency(ctx.replica))
    attr = tunnel.attribute(x, nt_type="smoothgrad", nt_samples=s.steps, nt_samples_batch_size=s.internal_batch_size,
                            stdevs=stdev, target=ctx.target, abs=False)
    return MethodOutput(attr)


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=s.steps, backward=s.steps)


SPEC = MethodSpec("smoothgrad", run, cost, steps_presets={"fast": 8, "balanced": 16, "thorough": 32})
