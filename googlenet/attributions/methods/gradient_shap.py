"""GradientSHAP (Lundberg and Lee, 2017; Captum): gradient x (input - baseline) at random points between a noisy
input and baselines drawn from black, the ImageNet mean and a blurred copy."""

from __future__ import annotations

from typing import Optional

import torch
from captum.attr import GradientShap
from torch import Tensor

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext

BASELINE_KINDS: tuple[str, ...] = ("black", "mean", "blur")


def run(ctx: RunContext) -> MethodOutput:
    s, x = ctx.settings, ctx.x
    # GradientShap is an expectation over (baseline, noise, alpha) samples: averaging independent chunks is the same
    # estimator, and chunking bounds memory (Captum runs all n_samples in one batch).
    baselines = torch.cat([ctx.baseline(kind) for kind in BASELINE_KINDS])  # 3 x 3 x H x W
    stdev = s.noise * float(x.max() - x.min())
    shap = GradientShap(ctx.replica)
    total: Optional[Tensor] = None
    remaining = s.steps
    while remaining > 0:
        n = min(remaining, s.internal_batch_size)
        chunk = shap.attribute(x, baselines=baselines, n_samples=n, stdevs=stdev, target=ctx.target)
        total = chunk * n if total is None else total + chunk * n
        remaining -= n
    return MethodOutput(total / s.steps)


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    return Cost(forward=s.steps, backward=s.steps)


SPEC = MethodSpec("gradient_shap", run, cost, steps_presets={"fast": 8, "balanced": 16, "thorough": 32})
