"""What every attribution method declares, in one place per method (the files next to this one).

A :class:`MethodSpec` says which settings a method reads (steps or samples, an occlusion window, a layer, a
baseline), its presets, how many images it sends through the network for given settings (its declared cost, which
the tests check against a count of the images that really went through), and how it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Optional, Protocol

import torch
from torch import Tensor

from ..cost import Cost

if TYPE_CHECKING:
    from ..replicas import Counted

__all__ = ["MethodSettings", "MethodSpec", "RunContext", "MethodOutput", "forward_logits"]


class MethodSettings(Protocol):
    """What a method reads of its (resolved) settings: ``AttributionSettings`` in ``..settings``, which depends on
    the methods' declarations, not the other way round."""

    method: str
    layer: str
    steps: Optional[int]
    window: Optional[int]
    stride: Optional[int]
    baseline: str
    noise: float
    internal_batch_size: int


class MethodOutput(NamedTuple):
    attributions: Tensor  # 1 x C x H x W (C = 1 for maps that do not depend on the colour channel)
    convergence_delta: Optional[float] = None  # Integrated Gradients: sum(attr) - (f(x) - f(baseline))
    target_logit: Optional[float] = None  # f(x), when the method computed it anyway
    baseline_logit: Optional[float] = None  # f(baseline), Integrated Gradients


@dataclass(frozen=True)
class RunContext:
    """One run of one method: a private replica, the input, resolved settings and the target class."""

    replica: "Counted"  # counts the images that go forward (progress, and the cost check in the tests)
    x: Tensor  # 1 x 3 x H x W, normalized
    settings: MethodSettings  # resolved: every field the method reads is set
    target: int
    baseline: Callable[[str], Tensor]  # kind ("black", "mean", "blur") -> 1 x 3 x H x W


@dataclass(frozen=True)
class MethodSpec:
    name: str  # the key everywhere: settings, API, locale keys (attributions.method.<name>)
    run: Callable[[RunContext], MethodOutput]
    cost: Callable[[MethodSettings, tuple[int, int]], Cost]  # resolved settings, (H, W)
    steps_presets: Optional[Mapping[str, int]] = None  # IG steps / SmoothGrad and GradientSHAP samples
    occlusion_presets: Optional[Mapping[str, tuple[int, int]]] = None  # preset -> (window, stride), pixels
    uses_layer: bool = False  # reads one of the nine Inception modules
    uses_baseline: bool = False  # reads the "absent" image (IG, Occlusion; GradientSHAP samples all three)


def forward_logits(replica: "Counted", x: Tensor) -> Tensor:
    """The replica's model on ``x`` without counting it as the method's work (f(x) for a report)."""
    with torch.no_grad():
        model_input = x.contiguous(memory_format=torch.channels_last) if replica.channels_last else x
        return replica.model(model_input)
