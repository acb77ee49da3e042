"""Branch attribution: how much each of the four branches of each Inception module carried the evidence for the
target class.

- ``grad_x_activation``: gradient x activation on every ``inceptionXY.branchN`` output, all 36 in one pass (a
  first-order Taylor estimate of each branch's contribution to the target logit).
- ``layer_integrated_gradients``: per module, Integrated Gradients on its four branch outputs at once (they are
  parallel, so patching them together is exact). Completeness holds per module: the four values sum to
  f(x) - f(baseline) up to the reported delta. Nine runs.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np
import torch
from captum.attr import LayerGradientXActivation, LayerIntegratedGradients
from torch import Tensor

from ..model import BRANCHES, INCEPTION_MODULES
from .cost import Cost
from .errors import AttributionError
from .replicas import Counted
from .settings import BRANCH_METHODS, PRESETS

__all__ = ["BRANCH_IG_STEPS", "branch_cost", "branch_maps", "BranchMaps"]

#: Layer Integrated Gradients steps per module, by preset.
BRANCH_IG_STEPS: dict[str, int] = {"fast": 8, "balanced": 16, "thorough": 32}


def _check(method: str, preset: str) -> None:
    if method not in BRANCH_METHODS:
        raise AttributionError("errors.unknown_branch_method", value=method, choices=", ".join(BRANCH_METHODS))
    if preset not in PRESETS:
        raise AttributionError("errors.unknown_preset", value=preset, choices=", ".join(PRESETS))


def branch_cost(method: str, preset: str = "balanced", steps: Optional[int] = None) -> Cost:
    """Declared cost of a branch attribution (the target's top-1 look-up not included)."""
    _check(method, preset)
    if method == "grad_x_activation":
        return Cost(1, 1)  # one pass for all 36 branches
    n = steps or BRANCH_IG_STEPS[preset]
    # Per module: x and baseline forward (layer activations), n_steps forward+backward, 2 forward for the delta.
    return Cost(forward=n + 4, backward=n) * len(INCEPTION_MODULES)


class BranchMaps(NamedTuple):
    maps: dict[str, np.ndarray]  # module -> 4 x h x w: channel-summed attribution at the module's size
    deltas: Optional[list[float]]  # layer IG: convergence delta per module


def branch_maps(replica: Counted, x: Tensor, target: int, *, method: str, preset: str, steps: Optional[int],
                base: Tensor, internal_batch_size: int) -> BranchMaps:
    """Attribution maps of every branch output of every module for ``target`` (gradients enabled by the caller)."""
    _check(method, preset)
    model = replica.model
    maps: dict[str, np.ndarray] = {}
    if method == "grad_x_activation":
        layers = [getattr(getattr(model, m), b) for m in INCEPTION_MODULES for b in BRANCHES]
        attrs = LayerGradientXActivation(replica, layers).attribute(x, target=target)  # 36 x (1 x C x h x w)
        for i, module in enumerate(INCEPTION_MODULES):
            per_branch = [attrs[i * len(BRANCHES) + j][0].sum(dim=0) for j in range(len(BRANCHES))]
            maps[module] = torch.stack(per_branch).detach().float().cpu().numpy()  # 4 x h x w
        return BranchMaps(maps, None)
    n_steps = steps or BRANCH_IG_STEPS[preset]
    deltas = []
    for module in INCEPTION_MODULES:
        inception = getattr(model, module)
        lig = LayerIntegratedGradients(replica, [getattr(inception, b) for b in BRANCHES])
        attrs, delta = lig.attribute(x, baselines=base, target=target, n_steps=n_steps,
                                     internal_batch_size=internal_batch_size, return_convergence_delta=True)
        maps[module] = torch.stack([a[0].sum(dim=0) for a in attrs]).detach().float().cpu().numpy()
        deltas.append(float(delta.reshape(-1)[0]))
    return BranchMaps(maps, deltas)
