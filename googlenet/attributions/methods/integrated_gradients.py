"""Integrated Gradients (Sundararajan et al., ICML 2017): gradients averaged on the straight path from a baseline.

Completeness: the map sums to f(x) - f(baseline) up to the convergence delta, which is reported.
"""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients

from ..cost import Cost
from .base import MethodOutput, MethodSettings, MethodSpec, RunContext, forward_logits


def run(ctx: RunContext) -> MethodOutput:
    s = ctx.settings
    baseline = ctx.baseline(s.baseline)
    attr, delta = IntegratedGradients(ctx.replica).attribute(
        ctx.x, baselines=baseline, target=ctx.target, n_steps=s.steps, internal_batch_size=s.internal_batch_size,
        return_convergence_delta=True)
    ends = forward_logits(ctx.replica, torch.cat([ctx.x, baseline]))[:, ctx.target]  # 2: f(x), f(baseline)
    return MethodOutput(attr, float(delta.reshape(-1)[0]), float(ends[0]), float(ends[1]))


def cost(s: MethodSettings, size: tuple[int, int]) -> Cost:
    # n_steps interpolated images forward+backward, then 2 forward passes (x and the baseline) for the delta.
    return Cost(forward=s.steps + 2, backward=s.steps)


SPEC = MethodSpec("integrated_gradients", run, cost, steps_presets={"fast": 16, "balanced": 32, "thorough": 64},
                  uses_baseline=True)
